import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/platform/config.js'
import { onAbort, type TaskSignal } from '../src/executor/cancellation.js'
import type { Executor } from '../src/executor/executor.js'
import { createRedisJobs } from '../src/jobs/redis-jobs.js'
import { createEmbeddedJobs } from '../src/jobs/embedded-jobs.js'
import type { JobCaller, Jobs } from '../src/jobs/jobs.js'
import { activeOf, FINISHED, finishedOf } from '../src/jobs/redis-records.js'
import { buildTestApp } from './helper.js'
import { until } from './support/jobs.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { jobTasks } from '../src/jobs/job-tasks.js'
import { loadTasks } from '../src/tasks/registry.js'

/** Chunks from LONG on run until aborted (a job that holds its slot); the others finish at once. */
const LONG = 1_000_000
const executor = {
  execute: async (_task: string, input: { start: number }, { signal }: { signal?: TaskSignal } = {}) => {
    if (input.start < LONG) return { value: 1n, kernelMs: 0 }
    await new Promise((_resolve, reject) => { onAbort(signal!, () => reject(new Error('aborted'))) })
    return { value: 0n, kernelMs: 0 }
  }
} as unknown as Executor

const config = loadConfig({
  JOB_CHUNK_TERMS: '1000',
  JOB_MAX_TERMS: '10000000',
  POOL_THREADS: '8',
  JOBS_MAX_ACTIVE: '6',
  JOBS_MAX_ACTIVE_PER_KEY: '3',
  JOBS_MAX_STORED_PER_KEY: '5',
  JOBS_MAX_STORED: '8',
  SHUTDOWN_GRACE_MS: '1000',
  REDIS_URL: undefined
})
const tasks = jobTasks(await loadTasks(), config)
const log = pino({ level: 'silent' })
const caller = (client: string): JobCaller => ({ client, requestId: `req-${client}` })
const long = { task: 'sum-of-squares' as const, input: { start: LONG, end: LONG + 1000 } }
const empty = { task: 'sum-of-squares' as const, input: { start: 0, end: 0 } }
const short = { task: 'sum-of-squares' as const, input: { start: 0, end: 10 } }

describe.each(['embedded', 'redis'] as const)('job caps per client and in all (%s)', (mode) => {
  let redis: RedisServer | undefined
  let client: Redis | undefined
  let jobs: Jobs
  beforeAll(async () => {
    if (mode === 'redis') {
      redis = await startRedis()
      client = new Redis(redis.url)
    }
  })
  afterAll(async () => {
    await client?.quit()
    await redis?.stop()
  })
  beforeEach(async () => {
    await client?.flushall()
    jobs = mode === 'embedded'
      ? createEmbeddedJobs({ executor, tasks, config, log })
      : await createRedisJobs({ executor, tasks, config: { ...config, REDIS_URL: redis!.url }, log })
  })
  afterEach(async () => {
    await jobs.stop()
    await jobs.close()
  })

  /** How many of `ids` GET still finds. */
  const readable = async (ids: string[], who: string) =>
    (await Promise.all(ids.map((id) => jobs.get(id, caller(who))))).filter((document) => document !== undefined).length

  it('answers 429 past JOBS_MAX_ACTIVE_PER_KEY while another client still gets its job, and frees the place when one ends', async () => {
    const held = []
    for (let i = 0; i < 3; i++) held.push(await jobs.submit(long, caller('key:a')))
    await expect(jobs.submit(long, caller('key:a'))).rejects.toMatchObject({ statusCode: 429, code: 'SVC_TOO_MANY_CLIENT_JOBS' })
    // Even a job that would finish at once is refused: the share counts what the client holds.
    await expect(jobs.submit(short, caller('key:a'))).rejects.toMatchObject({ statusCode: 429 })
    expect((await jobs.submit(long, caller('key:b'))).status).toMatch(/queued|running/)
    if (client !== undefined) expect(await client.scard(activeOf('key:a'))).toBe(3)
    await jobs.cancel(held[0]!.id, caller('key:a'))
    expect((await jobs.submit(long, caller('key:a'))).status).toMatch(/queued|running/)
    // The global cap stays the service's: 503 once JOBS_MAX_ACTIVE jobs are active, whoever asks.
    await jobs.submit(long, caller('key:b'))
    await jobs.submit(long, caller('key:b'))
    await expect(jobs.submit(long, caller('key:c'))).rejects.toMatchObject({ statusCode: 503, code: 'SVC_TOO_MANY_JOBS' })
  })

  it('evicts a client\'s oldest finished jobs past JOBS_MAX_STORED_PER_KEY: 404 for those, the newest readable', async () => {
    const ids: string[] = []
    for (let i = 0; i < 7; i++) {
      const { id } = await jobs.submit(i % 2 === 0 ? empty : short, caller('key:a'))
      // Finished through its chunk (the script that ends a job) or at birth (an empty range).
      await until(async () => (await jobs.get(id, caller('key:a')))?.status === 'succeeded' ? true : undefined, 10_000)
      ids.push(id)
    }
    const other = await jobs.submit(empty, caller('key:b'))
    expect(await jobs.get(ids[0]!, caller('key:a'))).toBeUndefined()
    expect(await jobs.get(ids[1]!, caller('key:a'))).toBeUndefined()
    expect(await readable(ids.slice(2), 'key:a')).toBe(5)
    expect(await jobs.get(other.id, caller('key:b'))).toBeDefined()
    if (client !== undefined) {
      expect(await client.zcard(finishedOf('key:a'))).toBe(5)
      expect(await client.zcard(FINISHED)).toBe(6)
    }
  })

  it('keeps at most JOBS_MAX_STORED finished jobs in all, evicting the oldest overall, however many clients submit', async () => {
    const ids: string[] = []
    for (let i = 0; i < 300; i++) ids.push((await jobs.submit(empty, caller(`ip:10.0.${i % 30}.1`))).id)
    const byClient = ids.map((id, i) => ({ id, who: `ip:10.0.${i % 30}.1` }))
    const found = await Promise.all(byClient.map(async ({ id, who }) => await jobs.get(id, caller(who)) !== undefined))
    expect(found.filter(Boolean)).toHaveLength(8)
    expect(found.slice(-8)).toEqual(Array(8).fill(true))
    if (client !== undefined) {
      expect(await client.keys('compute:job:*')).toHaveLength(8)
      expect(await client.zcard(FINISHED)).toBe(8)
      // Per-client sets of evicted jobs are emptied, so Redis drops them: one per client still holding a job.
      expect(await client.keys(`${FINISHED}:*`)).toHaveLength(8)
    }
  })

  it('forgets a deleted finished job in the caps\' bookkeeping too', async () => {
    const first = await jobs.submit(empty, caller('key:a'))
    expect((await jobs.remove(first.id, caller('key:a')))?.outcome).toBe('removed')
    const kept = []
    for (let i = 0; i < 5; i++) kept.push((await jobs.submit(empty, caller('key:a'))).id)
    expect(await readable(kept, 'key:a')).toBe(5)
    if (client !== undefined) expect(await client.zcard(finishedOf('key:a'))).toBe(5)
  })
})

describe('POST /v1/jobs past a client\'s share (embedded, app.inject)', () => {
  const post = (app: FastifyInstance, headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
    app.inject({ method: 'POST', url: '/v1/jobs', remoteAddress, headers, payload: { task: 'sum-of-squares', input: { start: 0, end: 1e13 } } })

  it('answers 429 with Retry-After to the key holding JOBS_MAX_ACTIVE_PER_KEY jobs, 202 to another key', async () => {
    const app = await buildTestApp({ API_KEYS: 'caps-key-a-0123456789,caps-key-b-0123456789', JOBS_MAX_ACTIVE_PER_KEY: '2' })
    try {
      const a = { authorization: 'Bearer caps-key-a-0123456789' }
      expect([(await post(app, a)).statusCode, (await post(app, a)).statusCode]).toEqual([202, 202])
      const refused = await post(app, a)
      expect(refused.statusCode).toBe(429)
      expect(refused.headers['retry-after']).toMatch(/^\d+$/)
      expect(refused.json()).toMatchObject({ statusCode: 429, message: expect.stringMatching(/at most 2 jobs/) })
      expect((await post(app, { authorization: 'Bearer caps-key-b-0123456789' })).statusCode).toBe(202)
    } finally {
      await app.close()
    }
  })

  it('counts by address without API_KEYS', async () => {
    const app = await buildTestApp({ JOBS_MAX_ACTIVE_PER_KEY: '1' })
    try {
      expect((await post(app, {}, '10.1.1.1')).statusCode).toBe(202)
      expect((await post(app, {}, '10.1.1.1')).statusCode).toBe(429)
      expect((await post(app, {}, '10.2.2.2')).statusCode).toBe(202)
    } finally {
      await app.close()
    }
  })
})
