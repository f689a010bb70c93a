import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/platform/config.js'
import type { Executor } from '../src/executor/executor.js'
import { CHUNK_QUEUE } from '../src/jobs/redis-chunk-queue.js'
import { createRedisJobs } from '../src/jobs/redis-jobs.js'
import { chunkId } from '../src/jobs/chunk-window.js'
import { jobTasks } from '../src/jobs/job-tasks.js'
import type { Jobs } from '../src/jobs/jobs.js'
import { loadTasks } from '../src/tasks/registry.js'
import { until } from './support/jobs.js'
import { startRedis, type RedisServer } from './support/redis-server.js'

// Two chunks at once: chunk 1 holds one slot until released, the rerun of chunk 0 takes the other.
const config = loadConfig({ JOB_CHUNK_TERMS: '1000', JOB_MAX_TERMS: '100000', POOL_THREADS: '2', JOB_THREADS: '2', REDIS_URL: undefined })
const caller = { requestId: 'req-1', client: 'ip:127.0.0.1' }

describe('a chunk that runs twice (redis)', () => {
  let redis: RedisServer
  let client: Redis
  let jobs: Jobs
  /** Chunk 0 answers 1 on its first run and 1000 on any later one; chunk 1 answers 5 once released. */
  const runs: number[] = []
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  const executor = {
    execute: async (_task: string, input: { start: number }) => {
      if (input.start === 0) return { value: runs.push(0) === 1 ? 1n : 1000n, kernelMs: 1 }
      await released
      return { value: 5n, kernelMs: 1 }
    }
  } as unknown as Executor

  beforeAll(async () => {
    redis = await startRedis()
    client = new Redis(redis.url, { maxRetriesPerRequest: null })
    jobs = await createRedisJobs({ executor, tasks: jobTasks(await loadTasks(), config), config: { ...config, REDIS_URL: redis.url }, log: pino({ level: 'silent' }) })
  })
  afterAll(async () => {
    release()
    await jobs?.stop()
    await jobs?.close()
    await client?.quit()
    await redis?.stop()
  })

  it('keeps its first run\'s partial and counts it once: the merge sees each chunk once', async () => {
    const { id } = await jobs.submit({ task: 'sum-of-squares', input: { start: 0, end: 2000 } }, caller)
    await until(async () => (await jobs.get(id, caller))?.progress.done === 1000)
    // As after a replica died between recording chunk 0 and BullMQ marking it complete: it runs again.
    const queue = new Queue(CHUNK_QUEUE, { connection: client })
    await queue.add('sum-of-squares', { job: id, index: 0, chunks: 2 }, { jobId: chunkId(id, 0) })
    await until(() => runs.length === 2)
    await until(async () => (await queue.getJobCounts('waiting', 'active')).active === 1)
    release()
    const done = await until(async () => {
      const document = await jobs.get(id, caller)
      return document?.status === 'succeeded' ? document : undefined
    })
    await queue.close()
    // 1 + 5: not 1000 + 5 (the rerun's partial), nor 1 + 1000 + 5 (both).
    expect(done).toMatchObject({ result: '6', progress: { done: 2000, total: 2000 } })
  })
})
