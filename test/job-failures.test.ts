import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/platform/config.js'
import type { Executor } from '../src/executor/executor.js'
import { createRedisJobs } from '../src/jobs/redis-jobs.js'
import { createEmbeddedJobs } from '../src/jobs/embedded-jobs.js'
import type { JobDocument } from '../src/jobs/job-document.js'
import { newJobRecord } from '../src/jobs/job-plan.js'
import type { Jobs } from '../src/jobs/jobs.js'
import { ACTIVE, keysOf, toHash } from '../src/jobs/redis-records.js'
import { until } from './support/jobs.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { jobTasks } from '../src/jobs/job-tasks.js'
import { loadTasks } from '../src/tasks/registry.js'

/** An executor whose chunk starting at `failAt` throws, as a crashed kernel would; the others take 20 ms. */
function failingExecutor (failAt: number): Executor {
  return {
    execute: async (_task: string, input: { start: number, end: number }) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      if (input.start === failAt) throw new Error('kernel crashed')
      return { value: 1n, kernelMs: 20 }
    }
  } as unknown as Executor
}

const config = loadConfig({ JOB_CHUNK_TERMS: '1000', JOB_MAX_TERMS: '100000', POOL_THREADS: '2', REDIS_URL: undefined })
const tasks = jobTasks(await loadTasks(), config)
const log = pino({ level: 'silent' })
const caller = { requestId: 'req-1', client: 'ip:127.0.0.1' }

describe.each(['embedded', 'redis'] as const)('a job whose chunk fails (%s)', (mode) => {
  let redis: RedisServer | undefined
  let jobs: Jobs
  beforeAll(async () => {
    const executor = failingExecutor(3000)
    if (mode === 'embedded') {
      jobs = createEmbeddedJobs({ executor, tasks, config, log })
    } else {
      redis = await startRedis()
      jobs = await createRedisJobs({ executor, tasks, config: { ...config, REDIS_URL: redis.url }, log })
    }
  })
  afterAll(async () => {
    await jobs?.stop()
    await jobs?.close()
    await redis?.stop()
  })

  it('ends failed, with the reason in the error shape and the POST\'s request id, and runs no more chunks', async () => {
    const submitted = await jobs.submit({ task: 'sum-of-squares', input: { start: 0, end: 50_000 } }, caller)
    const failed = await until(async () => {
      const document = await jobs.get(submitted.id, caller)
      return document?.status === 'failed' ? document : undefined
    }, 20_000) as JobDocument
    const reason = expect.stringMatching(/^The job failed: a chunk (could not be computed|failed 3 times)$/)
    // A stored problem has no instance: no request failed.
    expect(failed.error).toEqual({
      type: 'https://compute-service.dev/problems/job-failed',
      title: 'The job failed',
      status: 500,
      detail: reason,
      code: 'SVC_JOB_FAILED',
      requestId: 'req-1',
      statusCode: 500,
      error: 'Internal Server Error',
      message: reason
    })
    const done = failed.progress.done
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await jobs.get(submitted.id, caller))!.progress.done).toBe(done)
    expect(done).toBeLessThan(50_000)
  })
})

describe('a job whose replica stopped between creating it and queueing its chunks (redis)', () => {
  it('gets its first chunks queued again by a live replica, and succeeds', async () => {
    const redis = await startRedis()
    const client = new Redis(redis.url)
    const jobs = await createRedisJobs({ executor: failingExecutor(-1), tasks, config: { ...config, REDIS_URL: redis.url }, log, orphanAfterMs: 400 })
    try {
      // What the submit script leaves behind, without the chunks that would have followed it.
      const record = newJobRecord(tasks.get('sum-of-squares')!, { task: 'sum-of-squares', input: { start: 0, end: 5000 } }, caller, 1000)
      await client.multi().hset(keysOf(record.id).job, toHash(record)).sadd(ACTIVE, record.id).exec()
      const done = await until(async () => {
        const document = await jobs.get(record.id, caller)
        return document?.status === 'succeeded' ? document : undefined
      }, 10_000)
      expect(done).toMatchObject({ result: '5', progress: { done: 5000 } })
    } finally {
      await jobs.stop()
      await jobs.close()
      await client.quit()
      await redis.stop()
    }
  })
})
