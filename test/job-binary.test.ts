import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Executor } from '../src/executor/executor.js'
import { binaryInputOf } from '../src/jobs/job-document.js'
import { jobTasks } from '../src/jobs/job-tasks.js'
import { createRedisJobs } from '../src/jobs/redis-jobs.js'
import { createEmbeddedJobs } from '../src/jobs/embedded-jobs.js'
import { keysOf } from '../src/jobs/redis-records.js'
import { loadConfig } from '../src/platform/config.js'
import { loadTasks } from '../src/tasks/registry.js'
import { until } from './support/jobs.js'
import { JOB_MODES, jobApp, type JobApp } from './support/job-app.js'
import { startRedis } from './support/redis-server.js'

const octets = { 'content-type': 'application/octet-stream' }
const bytesOf = (...lists: number[][]) => Buffer.from(new Float64Array(lists.flat()).buffer)
/** Binary inputs whose chunks (3 units each) carry exactness across them, as test/job-tasks.test.ts's JSON ones. */
const cases = [
  { task: 'sum', body: bytesOf([1e308, 0.1, 1e308, -1e308, 0.2, -1e308, 0.3, 1e-300, 5]) },
  { task: 'dot', body: bytesOf([1e200, 3, 1e200, 0.1, 7, -2, 1e-160], [1e200, 0.1, -1e200, 3, 7, 0.5, 1e-160]) },
  { task: 'stats', body: bytesOf([1e16, 1e16 + 2, 1e16 + 4, 1e16 + 6, 1e16 + 8, 1e16 + 10, 1e16 + 12, -0]) }
]
const MAX_INPUT = 800
const withoutRunFields = ({ chunks: _chunks, elapsedMs: _elapsedMs, ...answer }: Record<string, unknown>) => answer

describe.each(JOB_MODES)('binary job inputs (%s)', (mode) => {
  let jobs: JobApp
  beforeAll(async () => {
    jobs = await jobApp(mode, { JOB_CHUNK_TERMS: '3', JOB_MAX_TERMS: '1000000', JOB_MAX_INPUT_BYTES: String(MAX_INPUT), BODY_LIMIT_BYTES: '4096', UPLOAD_MEMORY_MAX_BYTES: String(2 ** 20) })
  }, 30_000)
  afterAll(async () => { await jobs?.close() })

  const postBinary = (task: string | undefined, body: Buffer, headers: Record<string, string> = {}) =>
    jobs.inject({ method: 'POST', url: `/v1/jobs${task === undefined ? '' : `?task=${task}`}`, headers: { ...octets, ...headers }, payload: body })

  it.each(cases)('$task: a binary job\'s result is the route\'s answer to the same bytes, over chunks of 3 units', async ({ task, body }) => {
    const route = await jobs.inject({ method: 'POST', url: `/v1/${task}`, headers: octets, payload: body })
    expect(route.status).toBe(200)
    const submitted = await postBinary(task, body)
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202)
    expect(submitted.body).toMatchObject({ task, input: { contentType: 'application/octet-stream', bytes: body.length } })
    const done = await jobs.finished(submitted.body.id)
    expect(done).toMatchObject({ status: 'succeeded', progress: { fraction: 1 } })
    expect(done.result).toEqual(withoutRunFields(route.body))
  })

  it(`answers 413 past JOB_MAX_INPUT_BYTES (${MAX_INPUT}), before reading the body`, async () => {
    const refused = await postBinary('sum', Buffer.alloc(MAX_INPUT + 8))
    expect(refused.status).toBe(413)
    expect(refused.body).toMatchObject({ statusCode: 413, message: expect.stringMatching(String(MAX_INPUT)) })
    const accepted = await postBinary('sum', Buffer.alloc(MAX_INPUT))
    expect(accepted.status).toBe(202)
    // Ended before a later test counts what is left reserved (an embedded job holds its input until then).
    await jobs.finished(accepted.body.id)
  })

  it('answers 400 to a body not in the task\'s layout, or without a binary task', async () => {
    expect((await postBinary('dot', Buffer.alloc(24))).body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/multiple of 16/) })
    for (const task of [undefined, 'sum-of-squares', 'nope']) {
      const refused = await postBinary(task, Buffer.alloc(16))
      expect(refused.status, String(task)).toBe(400)
      expect(refused.body.message, String(task)).toMatch(/\?task= naming one of sum, dot, stats/)
    }
    const jsonWithQuery = await jobs.inject({ method: 'POST', url: '/v1/jobs?task=sum', payload: { task: 'sum', input: { values: [1] } } })
    expect(jsonWithQuery.status).toBe(400)
  })

  it('counts the body in the upload budget: 503 while the budget is held by others, 202 once it is free', async () => {
    // All but 100 bytes of what is free (an earlier job may still hold its input's reservation).
    const { maxBytes, reservedBytes } = jobs.app.uploads.stats()
    const held = jobs.app.uploads.reserve(maxBytes - reservedBytes - 100, 'ip:192.0.2.1')
    if (typeof held === 'string') throw new Error(`could not hold the budget: ${held}`)
    try {
      const refused = await postBinary('sum', bytesOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]))
      expect(refused.status).toBe(503)
      expect(refused.body).toMatchObject({ message: expect.stringMatching(/no room for this upload/) })
    } finally {
      held.release()
    }
    const accepted = await postBinary('sum', bytesOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]))
    expect(accepted.status).toBe(202)
    // Ended before the next test counts what is left reserved (an embedded job holds its input until then).
    await jobs.finished(accepted.body.id)
  })

  it('returns the body\'s upload reservation once the job no longer holds the values: none is left after the job, its replay, or a refusal', async () => {
    const body = bytesOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    const key = { 'idempotency-key': `reservation-${mode}` }
    const submitted = await postBinary('sum', body, key)
    await jobs.finished(submitted.body.id)
    expect((await postBinary('sum', body, key)).body.id).toBe(submitted.body.id)
    expect((await postBinary('sum', bytesOf([1]), key)).status).toBe(422)
    expect(jobs.app.uploads.stats()).toMatchObject({ reservedBytes: 0, inFlight: 0 })
  })

  it('takes Idempotency-Key over the bytes: the same bytes answer the same job, other bytes 422', async () => {
    const key = { 'idempotency-key': `"binary-${mode}"` }
    const first = await postBinary('stats', bytesOf([1, 2, 3]), key)
    expect((await postBinary('stats', bytesOf([1, 2, 3]), key)).body.id).toBe(first.body.id)
    expect((await postBinary('stats', bytesOf([1, 2, 4]), key)).status).toBe(422)
    expect((await postBinary('sum', bytesOf([1, 2, 3]), key)).status).toBe(422)
  })
})

describe('a binary input in an embedded job', () => {
  it('keeps its upload reservation while the job is active and returns it once when it ends', async () => {
    const config = loadConfig({ JOB_CHUNK_TERMS: '2', JOB_MAX_TERMS: '1000', POOL_THREADS: '2', REDIS_URL: undefined })
    // Chunks never finish: the job stays active until cancelled.
    const executor = { execute: () => new Promise(() => {}) } as unknown as Executor
    const jobs = createEmbeddedJobs({ executor, tasks: jobTasks(await loadTasks(), config), config, log: pino({ level: 'silent' }) })
    const values = new Float64Array(new SharedArrayBuffer(32))
    let released = 0
    const caller = { client: 'ip:127.0.0.9', requestId: 'req-1' }
    const job = await jobs.submit({ task: 'sum', input: binaryInputOf(values), binary: values, held: { release: () => { released++ } } }, caller)
    expect(released).toBe(0)
    await jobs.cancel(job.id, caller)
    await jobs.cancel(job.id, caller)
    expect(released).toBe(1)
    await jobs.stop()
    await jobs.close()
  })
})

describe('a binary input in Redis', () => {
  it('lives as long as its job, no longer: kept while active, deleted when it ends or is refused', async () => {
    const redis = await startRedis()
    const admin = new Redis(redis.url)
    const config = loadConfig({ JOB_CHUNK_TERMS: '2', JOB_MAX_TERMS: '1000', POOL_THREADS: '2', JOBS_MAX_ACTIVE_PER_KEY: '1', JOB_TTL_S: '600', REDIS_URL: undefined })
    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    // Chunks wait for release(): the job stays active as long as the test needs.
    const executor = { execute: async () => { await released; return { value: { kind: 'partials', partials: [] }, kernelMs: 0 } } } as unknown as Executor
    const jobs = await createRedisJobs({ executor, tasks: jobTasks(await loadTasks(), config), config: { ...config, REDIS_URL: redis.url }, log: pino({ level: 'silent' }) })
    const caller = { client: 'ip:127.0.0.9', requestId: 'req-1' }
    const binaryJob = (values: number[]) => {
      const shared = new Float64Array(new SharedArrayBuffer(values.length * 8))
      shared.set(values)
      return { task: 'sum', input: binaryInputOf(shared), binary: shared }
    }
    try {
      const job = await jobs.submit(binaryJob([1, 2, 3, 4]), caller)
      const input = keysOf(job.id).input
      expect(Buffer.concat(await admin.lrangeBuffer(input, 0, -1))).toEqual(Buffer.from(new Float64Array([1, 2, 3, 4]).buffer))
      expect(await admin.ttl(input)).toBe(-1)
      await expect(jobs.submit(binaryJob([5, 6]), caller)).rejects.toMatchObject({ statusCode: 429 })
      expect(await admin.keys('compute:job:*:input')).toEqual([input])
      await jobs.cancel(job.id, caller)
      expect(await admin.exists(input)).toBe(0)
      release()
      await until(async () => (await admin.keys('compute:job:*:input')).length === 0 || undefined)
    } finally {
      release()
      await jobs.stop()
      await jobs.close()
      admin.disconnect()
      await redis.stop()
    }
  })
})
