import { performance } from 'node:perf_hooks'
import { Redis } from 'ioredis'
import type { RedisServer } from '../../../test/support/redis-server.js'
import type { ServerProcess } from '../../../test/support/server-process.js'
import { agentFrom, postJsonThrough as postFrom } from '../../../test/support/http.js'
import { count, type Attack, type AttackOutcome } from '../hostile-attacks.js'

/** What one client can hold: jobs (issue 17). */

const TINY = { task: 'sum-of-squares', input: { start: 0, end: 0 } }
const MAX_TINY = 160_000
const TINY_MS = 40_000
const CONNECTIONS = 20
const RECENT = 600
/**
 * Caps well below the defaults (1,000 per client, 20,000 in all), so that the attack reaches them on
 * a busy machine within its 40 s; the docs give the bound at the defaults from the bytes per job
 * measured here. The before build ignores these variables.
 */
const SMALL_CAPS = { JOBS_MAX_STORED_PER_KEY: '50', JOBS_MAX_STORED: '500' }

/** Redis's used_memory (bytes), its number of keys, and of job hashes. */
async function redisMemory (redis: RedisServer): Promise<{ used: number, keys: number, jobs: number }> {
  const client = new Redis(redis.url)
  try {
    const info = await client.info('memory')
    const jobs = (await client.keys('compute:job:*')).filter((key) => !key.endsWith(':done')).length
    return { used: Number(/used_memory:(\d+)/.exec(info)?.[1]), keys: await client.dbsize(), jobs }
  } finally {
    client.disconnect()
  }
}

const MB = (bytes: number) => (bytes / 1e6).toFixed(1)

/**
 * 20 connections, each from its own loopback address (so both the per-client and the global stored
 * cap are reached), post empty-range jobs, finished at birth, for 40 s or 160k jobs.
 */
async function tinyJobs (server: ServerProcess, redis?: RedisServer): Promise<AttackOutcome> {
  const url = `${server.url}/v1/jobs`
  const before = redis === undefined ? undefined : await redisMemory(redis)
  const agents = Array.from({ length: CONNECTIONS }, (_, i) => agentFrom(`127.0.0.${i + 2}`, 1))
  const statuses: number[] = []
  const ids: string[] = []
  const started = performance.now()
  await Promise.all(agents.map(async (agent) => {
    while (performance.now() - started < TINY_MS && statuses.length < MAX_TINY) {
      const reply = await postFrom(agent, url, TINY)
      statuses.push(reply.status)
      if (reply.status === 202) ids.push((JSON.parse(reply.body) as { id: string }).id)
    }
  }))
  const ms = performance.now() - started
  for (const agent of agents) agent.destroy()
  const read = async (id: string | undefined) => id === undefined ? 0 : (await fetch(`${server.url}/v1/jobs/${id}`)).status
  // The newest jobs that GET still finds: a bound shows as fewer than RECENT.
  let readable = 0
  for (const id of ids.slice(-RECENT)) if (await read(id) === 200) readable++
  const kept = `${readable} of the last ${Math.min(RECENT, ids.length)} readable, the first job GET ${await read(ids[0])}`
  const created = count(statuses, 202)
  if (redis === undefined || before === undefined) return { answer: `${created} jobs created`, ms, note: `${statuses.length - created} refused; ${kept}` }
  const after = await redisMemory(redis)
  return {
    answer: `${created} jobs created; Redis used_memory ${MB(before.used)} → ${MB(after.used)} MB`,
    ms,
    note: `${after.jobs} jobs kept in ${after.keys} Redis keys, ${((after.used - before.used) / Math.max(1, after.jobs)).toFixed(0)} B per kept job; ${kept}`
  }
}

const KEY_A = 'hostile-jobs-key-a-0123456789'
const KEY_B = 'hostile-jobs-key-b-0123456789'

export const attacks: Attack[] = [
  {
    name: 'tiny-jobs-160k',
    description: `${CONNECTIONS} connections (one address each) POST /v1/jobs with an empty range for ${TINY_MS / 1000} s or ${MAX_TINY / 1000}k jobs (embedded), JOBS_MAX_STORED_PER_KEY=50 JOBS_MAX_STORED=500`,
    env: SMALL_CAPS,
    startTimeoutMs: 60_000,
    run: (server) => tinyJobs(server)
  },
  {
    name: 'tiny-jobs-160k-redis',
    description: 'The same against the Redis back end: jobs created, Redis used_memory before and after (INFO memory)',
    redis: true,
    env: SMALL_CAPS,
    startTimeoutMs: 60_000,
    run: tinyJobs
  },
  {
    name: 'one-key-260-jobs',
    description: 'API_KEYS of two keys: key A POSTs 260 jobs of 10^12 terms, then key B POSTs one',
    env: { API_KEYS: `${KEY_A},${KEY_B}` },
    startTimeoutMs: 60_000,
    async run (server) {
      const url = `${server.url}/v1/jobs`
      const agent = agentFrom('127.0.0.1', 8)
      const started = performance.now()
      const long = { task: 'sum-of-squares', input: { start: 0, end: 1e12 } }
      const fromA: number[] = []
      for (let i = 0; i < 260; i++) fromA.push((await postFrom(agent, url, long, { authorization: `Bearer ${KEY_A}` })).status)
      const fromB = await postFrom(agent, url, long, { authorization: `Bearer ${KEY_B}` })
      agent.destroy()
      const statuses = [...new Set(fromA)].map((status) => `${count(fromA, status)}x ${status}`).join(', ')
      return { answer: `B ${fromB.status}`, ms: performance.now() - started, note: `A: ${statuses}` }
    }
  }
]
