import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import type { Executor } from '../src/executor/executor.js'
import { createPoolExecutor } from '../src/executor/pool-executor.js'
import { taskTable } from './support/task-table.js'

/** Runs a task that keeps its thread busy for `ms`; resolves with when it finished, relative to `t0`. */
const spin = (executor: Executor, t0: number, ms: number, priority: 'request' | 'job') =>
  executor.execute('test-fault', { kind: 'spin', ms }, { priority }).then(() => performance.now() - t0)

describe('job work in the pool executor', () => {
  let executor: Executor | undefined
  afterEach(async () => { await executor?.close() })

  const start = async (threads: number, maxQueueMs = 8000) => {
    executor = createPoolExecutor({ threads, maxQueueMs, maxOldGenerationMb: 64, tasks: taskTable })
    // Threads start up front; one round trip each makes sure they are ready.
    await Promise.all(Array.from({ length: threads }, () => executor!.execute('test-fault', { kind: 'spin', ms: 1 })))
    return executor
  }

  it('runs on at most all threads but one, leaving a thread free for a request', async () => {
    const pool = await start(2)
    const t0 = performance.now()
    const jobs = [spin(pool, t0, 300, 'job'), spin(pool, t0, 300, 'job')]
    const request = spin(pool, t0, 100, 'request')
    const [first, second] = await Promise.all(jobs)
    expect(await request).toBeLessThan(250) // started at once, on the free thread
    expect(second! - first!).toBeGreaterThan(200) // the two job tasks ran one after the other
  })

  it('lets a request waiting for a thread go before job work queued earlier', async () => {
    const pool = await start(1)
    const t0 = performance.now()
    const running = spin(pool, t0, 200, 'job')
    const queuedJob = spin(pool, t0, 200, 'job')
    const request = spin(pool, t0, 50, 'request')
    await running
    expect(await request).toBeLessThan(await queuedJob)
  })

  it('never refuses job work when the request queue is full: it waits for a thread', async () => {
    const pool = await start(1, 0)
    const t0 = performance.now()
    const busy = spin(pool, t0, 200, 'request')
    await expect(spin(pool, t0, 10, 'request')).rejects.toThrow(/at capacity/)
    expect(await spin(pool, t0, 10, 'job')).toBeGreaterThan(await busy)
    expect(pool.stats().saturated).toBe(false)
  })
})
