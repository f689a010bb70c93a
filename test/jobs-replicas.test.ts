import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHUNK_QUEUE, type ChunkData } from '../src/jobs/redis-chunk-queue.js'
import { keysOf } from '../src/jobs/redis-records.js'
import { closedForm } from './support/closed-form.js'
import { float64Bytes, randomValues } from './support/float64.js'
import { deploy, jobClient, until, type Deployment, type JobDoc } from './support/jobs.js'
import type { ServerProcess } from './support/server-process.js'
import { sample } from './helper.js'

/**
 * Jobs against failures, on real processes: cancels that must stop the work on every replica,
 * replicas killed or stopped mid-chunk. Chunks of 2*10^9 terms take seconds here, so a chunk a
 * cancel failed to stop would still be running when the pools are read.
 */
const CHUNK_TERMS = 2_000_000_000
const client = jobClient()

const runningChunks = async (server: ServerProcess) =>
  ((await (await fetch(`${server.url}/probe`)).json()) as { pool: { running: number } }).pool.running

const metric = async (server: ServerProcess, name: string) => sample(await (await fetch(`${server.url}/metrics`)).text(), name) ?? 0

/** A chunk that the worker of `server` (named host:pid) holds in BullMQ's active list and whose partial is not recorded yet. */
async function unfinishedChunkOf (redis: Redis, server: ServerProcess) {
  for (const id of await redis.lrange(`bull:${CHUNK_QUEUE}:active`, 0, -1)) {
    // BullMQ keeps the worker's name as the job's `pb` field (its `processedBy`).
    const [worker, data] = await redis.hmget(`bull:${CHUNK_QUEUE}:${id}`, 'pb', 'data')
    if (worker !== `${hostname()}:${server.child.pid}` || data == null) continue
    const { job, index } = JSON.parse(data) as ChunkData
    if (await redis.getbit(keysOf(job).done, index) === 0) return id
  }
  return undefined
}

/**
 * Freezes `server` (SIGSTOP) at a moment it holds a chunk whose partial it has not recorded, so that
 * the SIGKILL that follows kills it in the middle of that chunk, which must then run again elsewhere.
 * The check after the freeze is the one believed: its reads follow, by a round trip at least, any
 * command the server had sent before it stopped. Thawed and tried again until so. Answers the chunk's id.
 */
async function freezeInUnfinishedChunk (redis: Redis, server: ServerProcess) {
  return await until(async () => {
    if (await unfinishedChunkOf(redis, server) === undefined) return undefined
    server.child.kill('SIGSTOP')
    const id = await unfinishedChunkOf(redis, server)
    if (id !== undefined) return id
    server.child.kill('SIGCONT')
    return undefined
  }, 60_000, 5)
}

for (const mode of ['embedded', 'redis'] as const) {
  describe.runIf(process.platform === 'linux')(`stopping a job: cancel, and shutdown (${mode})`, () => {
    let deployment: Deployment
    beforeAll(async () => { deployment = await deploy(mode, mode === 'redis' ? 3 : 1, { JOB_CHUNK_TERMS: String(CHUNK_TERMS) }) }, 60_000)
    afterAll(async () => { await deployment?.stop() })

    it('stops the job\'s chunks on every replica once it is cancelled, and none starts again', async () => {
      const replicas = deployment.replicas
      const { body: job } = await client.submit(replicas[0]!, { end: 1e12 })
      await until(async () => (await Promise.all(replicas.map(runningChunks))).every((running) => running > 0) || undefined)

      const answer = await client.cancel(replicas.at(-1)!, job.id)
      expect(answer.body.status).toBe('cancelled')
      // Causes, not CPU time: every replica's pool runs nothing (its chunk threads were stopped) ...
      await until(async () => (await Promise.all(replicas.map(runningChunks))).every((running) => running === 0) || undefined, 30_000)
      // ... and stays so: no queued chunk of the cancelled job is picked up afterwards.
      const completed = await Promise.all(replicas.map((replica) => metric(replica, 'compute_job_chunk_run_seconds_count')))
      await sleep(1000)
      expect(await Promise.all(replicas.map(runningChunks))).toEqual(replicas.map(() => 0))
      expect(await Promise.all(replicas.map((replica) => metric(replica, 'compute_job_chunk_run_seconds_count')))).toEqual(completed)
    }, 60_000)

    it.runIf(mode === 'embedded')('on shutdown, ends active jobs as cancelled with the reason, and the event stream says so before it closes', async () => {
      const [server] = deployment.replicas as [ServerProcess]
      const { body: job } = await client.submit(server, { end: 1e12 })
      const followed = client.events(server, job.id)
      await until(async () => await runningChunks(server) > 0 ? true : undefined)
      const exit = server.stop('SIGTERM')
      const stream = await followed
      expect(await exit).toEqual({ code: 0, signal: null })
      expect(stream.events.at(-1)!.event).toBe('done')
      expect(JSON.parse(stream.events.at(-1)!.data)).toMatchObject({
        status: 'cancelled',
        error: { statusCode: 503, message: expect.stringMatching(/embedded jobs do not survive a restart/) }
      })
    }, 60_000)
  })
}

describe('a job shared by three replicas through Redis', () => {
  // Shorter chunks: a dozen of them still take several seconds in all.
  const CHUNK_TERMS = 1_500_000_000
  let deployment: Deployment
  let redis: Redis
  beforeAll(async () => {
    deployment = await deploy('redis', 3, { JOB_CHUNK_TERMS: String(CHUNK_TERMS), JOB_LOCK_MS: '2000', LOG_LEVEL: 'info' })
    redis = new Redis(deployment.redis!.url)
  }, 60_000)
  afterAll(async () => {
    redis?.disconnect()
    await deployment?.stop()
  })

  it('loses nothing when a replica is killed with SIGKILL a third of the way: the result equals the closed form', async () => {
    const [a, b, c] = deployment.replicas as [ServerProcess, ServerProcess, ServerProcess]
    const input = { start: 0, end: 12 * CHUNK_TERMS }
    const { body: job } = await client.submit(a, input)
    const documents: JobDoc[] = []
    const followed = client.events(b, job.id, (event) => documents.push(JSON.parse(event.data)))

    // A third done, and C in the middle of a chunk: that chunk dies with it.
    await until(async () => (documents.at(-1)?.progress.fraction ?? 0) >= 1 / 3 || undefined, 60_000, 20)
    await freezeInUnfinishedChunk(redis, c)
    c.child.kill('SIGKILL')
    const stream = await followed

    expect(stream.events.at(-1)!.event).toBe('done')
    const done = documents.map((document) => document.progress.done)
    expect(done).toEqual([...done].sort((x, y) => x - y))
    expect(documents.at(-1)).toMatchObject({ status: 'succeeded', progress: { done: input.end, total: input.end }, result: closedForm(input.start, input.end).toString() })
    // C's chunk ran again on A or B, and was counted once.
    expect(await metric(a, 'compute_job_chunk_retries_total') + await metric(b, 'compute_job_chunk_retries_total')).toBeGreaterThan(0)
  }, 120_000)

  it('on SIGTERM a replica hands its running chunks back within its grace period and exits 0; the job stays exact', async () => {
    // D cuts the job it is sent into chunks 3 times as long: still running when its grace period's
    // first half is over, whatever the machine's speed, so there is something to hand back.
    const d = await deployment.addReplica({ SHUTDOWN_GRACE_MS: '1000', JOB_CHUNK_TERMS: String(3 * CHUNK_TERMS) })
    const [a, b] = deployment.replicas as [ServerProcess, ServerProcess]
    const retriesBefore = await metric(a, 'compute_job_chunk_retries_total') + await metric(b, 'compute_job_chunk_retries_total')
    const input = { start: -5 * CHUNK_TERMS, end: 4 * CHUNK_TERMS }
    const { body: job } = await client.submit(d, input)
    await until(async () => await runningChunks(d) > 0 ? true : undefined)

    // Exit 0 is the proof of time: past its grace period close-with-grace would have exited 1.
    const exit = await d.stop('SIGTERM')
    expect(exit).toEqual({ code: 0, signal: null })
    expect(d.logs.some((line) => line.msg === 'handing running job chunks back to the queue')).toBe(true)

    const finished = await client.finished(a, job.id, 60_000)
    expect(finished).toMatchObject({ status: 'succeeded', result: closedForm(input.start, input.end).toString() })
    expect(await metric(a, 'compute_job_chunk_retries_total') + await metric(b, 'compute_job_chunk_retries_total')).toBeGreaterThan(retriesBefore)
  }, 120_000)
})

describe('a job of each data task shared by three replicas, one SIGKILLed in the middle of a chunk (redis)', () => {
  // 400,000 values in chunks of 4,000: a hundred chunks a job, short enough to run in seconds.
  const VALUES = 400_000
  const env = { JOB_CHUNK_TERMS: '4000', JOB_MAX_TERMS: '100000000', JOB_LOCK_MS: '2000', BODY_LIMIT_BYTES: String(16 * 2 ** 20), JOB_MAX_INPUT_BYTES: String(8 * 2 ** 20) }
  let deployment: Deployment
  let redis: Redis
  beforeAll(async () => {
    deployment = await deploy('redis', 3, env)
    redis = new Redis(deployment.redis!.url)
  }, 60_000)
  afterAll(async () => {
    redis?.disconnect()
    await deployment?.stop()
  })

  it('answers what each route answers, binary and JSON, after the killed replica\'s chunk ran again elsewhere', async () => {
    const [a, b, c] = deployment.replicas as [ServerProcess, ServerProcess, ServerProcess]
    // Magnitudes over 2^±600 (sum), 2^±500 (dot: products within float64), 2^-1200..2^0 (stats: squares too).
    const values = randomValues(VALUES, 1200)
    const factors = randomValues(VALUES, 1000)
    const inputs = [
      { task: 'sum', body: float64Bytes(values), type: 'application/octet-stream' },
      { task: 'dot', body: float64Bytes(factors.subarray(0, VALUES / 2), factors.subarray(VALUES / 2)), type: 'application/octet-stream' },
      { task: 'stats', body: float64Bytes(values.map((value) => value * 2 ** -600)), type: 'application/octet-stream' },
      { task: 'sum', body: Buffer.from(JSON.stringify({ task: 'sum', input: { values: [...values.subarray(0, 20_000)] } })), type: 'application/json' }
    ]
    const retriesBefore = await metric(a, 'compute_job_chunk_retries_total') + await metric(b, 'compute_job_chunk_retries_total')
    const ids: string[] = []
    for (const { task, body, type } of inputs) {
      const response = await fetch(`${a.url}/v1/jobs${type === 'application/json' ? '' : `?task=${task}`}`, { method: 'POST', headers: { 'content-type': type }, body })
      expect(response.status, await response.clone().text()).toBe(202)
      ids.push((await response.json() as JobDoc).id)
    }

    // Frozen while it holds a chunk it has not recorded, C can neither finish that chunk nor let go of it: killed so, it dies mid-chunk.
    const held = await freezeInUnfinishedChunk(redis, c)
    c.child.kill('SIGKILL')

    for (const [k, { task, body, type }] of inputs.entries()) {
      const done = await client.finished(b, ids[k]!, 90_000)
      const routeBody = type === 'application/json' ? JSON.stringify(JSON.parse(body.toString()).input) : body
      const route = await fetch(`${b.url}/v1/${task}`, { method: 'POST', headers: { 'content-type': type }, body: routeBody })
      const { chunks: _chunks, elapsedMs: _elapsedMs, ...answer } = await route.json() as Record<string, unknown>
      expect(route.status, `${task} (${type})`).toBe(200)
      expect(done, `${task} (${type})`).toMatchObject({ status: 'succeeded', result: answer })
    }
    // C's chunk was taken by A or B once its lock expired, and counted once.
    expect(held).toBeDefined()
    expect(await metric(a, 'compute_job_chunk_retries_total') + await metric(b, 'compute_job_chunk_retries_total')).toBeGreaterThan(retriesBefore)
  }, 180_000)
})
