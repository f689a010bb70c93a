import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { fillRedis, putRedisToSleep } from '../../../test/support/redis-server.js'
import type { ServerProcess } from '../../../test/support/server-process.js'
import type { Attack } from '../hostile-attacks.js'

/** One request with a cap; its status (0 when unanswered by the cap), message and time. */
async function timed (url: string, init: RequestInit = {}, capMs = 50_000) {
  const started = performance.now()
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(capMs) })
    const body = await response.text()
    const message = /"message":"((?:[^"\\]|\\.){0,90})/.exec(body)?.[1]
    return { status: response.status, ms: Math.round(performance.now() - started), message, body }
  } catch {
    return { status: 0, ms: Math.round(performance.now() - started), message: undefined, body: '' }
  }
}

const postJob = (server: ServerProcess, end: number, key?: string) => timed(`${server.url}/v1/jobs`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', ...(key === undefined ? {} : { authorization: `Bearer ${key}` }) },
  body: JSON.stringify({ task: 'sum-of-squares', input: { start: 0, end } })
})

const JOB_KEY = 'hostile-redis-jobs-key'
const LIMIT_KEY = 'hostile-redis-limit-key'

/** What one client can hold: redis (issue 17). */
export const attacks: Attack[] = [
  {
    name: 'redis-debug-sleep',
    description: 'start a job, then DEBUG SLEEP 45 on Redis; GET /v1/jobs/{id}, POST /v1/jobs and GET /metrics meanwhile (each capped at 50 s)',
    redis: true,
    startTimeoutMs: 60_000,
    redisArgs: ['--enable-debug-command', 'local'],
    async run (server, redis) {
      const created = await postJob(server, 10_000_000)
      const id = (JSON.parse(created.body) as { id: string }).id
      const { woke } = await putRedisToSleep(redis!.url, 45)
      const [get, post, metrics] = await Promise.all([
        timed(`${server.url}/v1/jobs/${id}`),
        postJob(server, 1000),
        timed(`${server.url}/metrics`)
      ])
      const slept = await woke
      const show = (reply: Awaited<ReturnType<typeof timed>>) => `${reply.status === 0 ? 'no answer' : reply.status} in ${(reply.ms / 1000).toFixed(1)} s`
      return {
        answer: `GET job ${get.status === 0 ? 'no answer' : get.status}`,
        ms: get.ms,
        note: `POST /v1/jobs ${show(post)}; /metrics ${show(metrics)}; GET message: ${get.message ?? '-'}${slept === 'OK' ? '' : `; DEBUG SLEEP: ${String(slept)}`}`
      }
    }
  },
  {
    name: 'redis-full',
    description: 'Redis at maxmemory (noeviction, other keys) mid-job: POST /v1/jobs, the running job\'s end, 12 compute requests against RATE_LIMIT_MAX=5',
    redis: true,
    startTimeoutMs: 60_000,
    env: { API_KEYS: `${JOB_KEY},${LIMIT_KEY}`, RATE_LIMIT_MAX: '5', JOB_CHUNK_TERMS: '500000000' },
    async run (server, redis) {
      const admin = new Redis(redis!.url)
      const running = await postJob(server, 20_000_000_000, JOB_KEY)
      const id = (JSON.parse(running.body) as { id: string }).id
      const job = `compute:job:${id}`
      const progress = async () => Number(await admin.hget(job, 'chunksDone') ?? 0)
      for (let i = 0; i < 300 && await progress() === 0; i++) await sleep(50)
      const filled = await fillRedis(redis!.url)
      try {
        const post = await postJob(server, 1000, JOB_KEY)
        const statuses: number[] = []
        for (let i = 0; i < 12; i++) {
          const reply = await timed(`${server.url}/v1/sum-of-squares`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${LIMIT_KEY}` }, body: '{"end":10}' }, 10_000)
          statuses.push(reply.status)
        }
        // The job's end as Redis has it, within 30 s (a frozen job stays "running").
        let status: string | null = 'running'
        for (let i = 0; i < 300 && (status === 'running' || status === 'queued'); i++) {
          status = await admin.hget(job, 'status')
          if (status === 'running' || status === 'queued') await sleep(100)
        }
        const seen = await timed(`${server.url}/v1/jobs/${id}`, { headers: { authorization: `Bearer ${JOB_KEY}` } }, 10_000)
        const document = seen.status === 200 ? JSON.parse(seen.body) as { status: string, progress: { fraction: number }, error?: { message: string } } : undefined
        const active = await admin.sismember('compute:jobs:active', id)
        const passed = statuses.filter((s) => s === 200).length
        return {
          answer: `POST job ${post.status}`,
          ms: post.ms,
          note: `POST message: ${post.message ?? '-'}; running job: ${document === undefined ? `GET ${seen.status}` : `${document.status} at ${Math.round(document.progress.fraction * 100)}%${document.error === undefined ? '' : ` (${document.error.message.slice(0, 80)})`}`}, ${active === 1 ? 'still holds' : 'freed'} its active slot; rate limit: ${passed} of 12 passed a limit of 5 (${statuses.filter((s) => s === 429).length} got 429)`
        }
      } finally {
        await filled.free()
        admin.disconnect()
      }
    }
  }
]
