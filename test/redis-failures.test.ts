import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/platform/config.js'
import { jobTasks } from '../src/jobs/job-tasks.js'
import { loadTasks } from '../src/tasks/registry.js'
import type { Executor } from '../src/executor/executor.js'
import { createRedisJobs } from '../src/jobs/redis-jobs.js'
import type { JobDocument } from '../src/jobs/job-document.js'
import { ACTIVE, activeOf, keysOf } from '../src/jobs/redis-records.js'
import { buildTestApp, json, sample } from './helper.js'
import { until } from './support/jobs.js'
import { fillRedis, putRedisToSleep, startRedis, type RedisServer } from './support/redis-server.js'

const SMALL_JOB = { task: 'sum-of-squares', input: { start: 0, end: 1000 } }
const postJob = (app: FastifyInstance) => app.inject({ method: 'POST', url: '/v1/jobs', headers: json, payload: SMALL_JOB })
const getJob = (app: FastifyInstance, id: string) => app.inject({ method: 'GET', url: `/v1/jobs/${id}` })

let redis: RedisServer | undefined
let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  await redis?.stop()
  app = redis = undefined
})

describe('job routes while Redis is full (maxmemory, noeviction)', () => {
  it('answer 503 saying the job store is full, not that it is unreachable', async () => {
    redis = await startRedis()
    app = await buildTestApp({ REDIS_URL: redis.url })
    const stored = JSON.parse((await postJob(app)).body) as JobDocument
    const filled = await fillRedis(redis.url)
    const post = await postJob(app)
    expect(post.statusCode).toBe(503)
    expect(JSON.parse(post.body).message).toMatch(/^The job store \(Redis\) is full/)
    // Reads still work: Redis refuses only writes.
    expect((await getJob(app, stored.id)).statusCode).toBe(200)
    await filled.free()
  })
})

describe('job routes while Redis is unreachable', () => {
  it('answer 503 saying it is unreachable', async () => {
    redis = await startRedis()
    app = await buildTestApp({ REDIS_URL: redis.url })
    await redis.stop()
    const post = await postJob(app)
    expect(post.statusCode).toBe(503)
    expect(JSON.parse(post.body).message).toMatch(/unreachable/)
  })
})

describe('job routes and /metrics while Redis is stuck (DEBUG SLEEP)', () => {
  it('answer 503 "slow" and /metrics answers, before Redis wakes up and before the request deadline (no 504)', async () => {
    redis = await startRedis(10_000, ['--enable-debug-command', 'local'])
    app = await buildTestApp({ REDIS_URL: redis.url, REQUEST_TIMEOUT_MS: '4000', REDIS_COMMAND_TIMEOUT_MS: '1000' })
    const created = JSON.parse((await postJob(app)).body) as JobDocument
    const asleep = await putRedisToSleep(redis.url, 6)
    const woke = asleep.woke.then(() => 'redis woke up' as const)
    const firstOf = <T>(request: Promise<T>) => Promise.race([request, woke])
    const get = await firstOf(getJob(app, created.id))
    const post = await firstOf(postJob(app))
    const metrics = await firstOf(app.inject({ method: 'GET', url: '/metrics' }))
    await woke
    for (const reply of [get, post]) {
      expect(reply).not.toBe('redis woke up')
      if (reply === 'redis woke up') return
      expect(reply.statusCode).toBe(503)
      expect(JSON.parse(reply.body)).toMatchObject({ code: 'SVC_JOB_STORE_SLOW', detail: expect.stringMatching(/^The job store \(Redis\) did not answer within 1000 ms/) })
    }
    expect(metrics).not.toBe('redis woke up')
    if (metrics === 'redis woke up') return
    expect(metrics.statusCode).toBe(200)
    expect(sample(metrics.body, 'compute_jobs_active')).toBeDefined()
    // Read at scrape time, the chunk counts are left out rather than shown stale.
    expect(sample(metrics.body, 'compute_job_chunks_waiting', { queue: 'compute-chunks' })).toBeUndefined()
  })
})

/** An executor whose chunks wait for `release()`; `started` resolves when the first chunk has begun. */
function gatedExecutor () {
  let release!: () => void
  const released = new Promise<void>((resolve) => { release = resolve })
  let started!: () => void
  const firstStarted = new Promise<void>((resolve) => { started = resolve })
  const executor = {
    execute: async () => {
      started()
      await released
      return { value: 1n, kernelMs: 1 }
    }
  } as unknown as Executor
  return { executor, release, firstStarted }
}

describe('a running job when Redis fills up (redis)', () => {
  it('ends failed with "job store full", visible to GET, and frees its active slot', async () => {
    redis = await startRedis()
    const config = loadConfig({ JOB_CHUNK_TERMS: '1000', JOB_MAX_TERMS: '100000', POOL_THREADS: '2', REDIS_URL: undefined })
    const { executor, release, firstStarted } = gatedExecutor()
    const tasks = jobTasks(await loadTasks(), config)
    const jobs = await createRedisJobs({ executor, tasks, config: { ...config, REDIS_URL: redis.url }, log: pino({ level: 'silent' }) })
    const admin = new Redis(redis.url)
    try {
      const submitted = await jobs.submit({ task: 'sum-of-squares', input: { start: 0, end: 10_000 } }, { client: 'ip:127.0.0.9', requestId: 'req-1' })
      await firstStarted
      const filled = await fillRedis(redis.url)
      release()
      const failed = await until(async () => {
        const document = await jobs.get(submitted.id, { client: 'ip:127.0.0.9', requestId: 'x' })
        return document?.status === 'failed' ? document : undefined
      }, 20_000) as JobDocument
      expect(failed.error).toMatchObject({ code: 'SVC_JOB_STORE_FULL', statusCode: 503, message: expect.stringMatching(/job store \(Redis\) was full/), requestId: 'req-1' })
      expect(await admin.sismember(ACTIVE, submitted.id)).toBe(0)
      // Its client's share is freed too (JOBS_MAX_ACTIVE_PER_KEY).
      expect(await admin.sismember(activeOf('ip:127.0.0.9'), submitted.id)).toBe(0)
      // Redis refused the write of status "failed": the job was ended by removing its status.
      expect(await admin.hget(keysOf(submitted.id).job, 'status')).toBeNull()
      await filled.free()
    } finally {
      admin.disconnect()
      await jobs.stop()
      await jobs.close()
    }
  })
})
