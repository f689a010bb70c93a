import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { DeadlineExceededError } from '../src/errors.js'
import { Cancellation } from '../src/executor/cancellation.js'
import type { Executor, ExecutorEvent } from '../src/executor/executor.js'
import { createPoolExecutor } from '../src/executor/pool-executor.js'
import { buildTestApp, json } from './helper.js'
import { taskTable } from './support/task-table.js'
import { until } from './support/until.js'

const spinWorker = fileURLToPath(new URL('./fixtures/slow-boot-worker.mjs', import.meta.url))

/** A one-thread pool of the spin fixture, booted, with the events it emits; closed afterwards. */
async function withSpinPool (use: (executor: Executor, events: ExecutorEvent[]) => Promise<void>) {
  const executor = createPoolExecutor({ threads: 1, maxQueueMs: 10_000, maxOldGenerationMb: 64, tasks: taskTable, filename: spinWorker })
  const events: ExecutorEvent[] = []
  executor.on((event) => events.push(event))
  try {
    await sleep(400) // the fixture's thread boots in 300 ms
    await use(executor, events)
  } finally {
    await executor.close()
  }
}

describe('work that cannot finish before its deadline', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => { await app?.close(); app = undefined })

  /** One sum-of-squares request, and every executor event it caused. */
  async function sumOfSquares (body: Record<string, number>, timeoutMs?: number) {
    app = await buildTestApp()
    const events: ExecutorEvent[] = []
    app.executor.on((event) => events.push(event))
    const headers = { ...json, ...(timeoutMs === undefined ? {} : { 'x-timeout-ms': String(timeoutMs) }) }
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers, payload: body })
    return { response, events, types: events.map((event) => event.type) }
  }

  it('is refused with the deadline\'s 504 before any task reaches the pool', async () => {
    // 10^10 terms is seconds of work on each of two threads: 60 ms cannot hold it, however fast the machine.
    const { response, events, types } = await sumOfSquares({ end: 1e10 }, 60)
    expect(response.statusCode).toBe(504)
    expect(response.json()).toMatchObject({ statusCode: 504, message: expect.stringMatching(/deadline of 60 ms/) })
    expect(events).toEqual([{ type: 'task-rejected', task: 'sum-of-squares', reason: 'deadline' }])
    expect(types).not.toContain('thread-replaced')
    expect(app!.executor.stats()).toMatchObject({ running: 0, queued: 0, threadsReplaced: 0 })
  })

  it('runs an honest request whose deadline leaves room for it', async () => {
    const { response, types } = await sumOfSquares({ end: 2e8 }, 30_000)
    expect(response.statusCode).toBe(200)
    expect(types).not.toContain('task-rejected')
    expect(types.filter((type) => type === 'task-settled')).toHaveLength(2)
  })

  it('still starts work that could finish if the machine is faster than the estimate', async () => {
    // Estimated at 2 x 1 s; a deadline of 700 ms is tight but not hopeless (1 s at twice the speed fits): admitted, whatever it then answers.
    const { response, types } = await sumOfSquares({ end: 3e9 }, 700)
    expect([200, 504]).toContain(response.statusCode)
    expect(types).not.toContain('task-rejected')
    expect(types).toContain('task-settled')
  })

  it('is left to finish, not its thread replaced, when its deadline cuts it after half its estimate', async () => {
    await withSpinPool(async (executor, events) => {
      // Estimated at 400 ms, due in 250 ms: admissible (200 ms at twice the speed fits); cut with
      // 150 ms of its estimate left, more than a replacement costs but less than it has run.
      // As the compute scope does: a deadline is a signal aborted with DeadlineExceededError when it passes.
      const signal = new Cancellation()
      const timer = setTimeout(() => signal.abort(new DeadlineExceededError(250)), 250)
      const cut = executor.execute('test-fault', { ms: 400 } as never, { signal, costMs: 400, deadline: { at: performance.now() + 250, ms: 250 } })
      cut.finally(() => clearTimeout(timer)).catch(() => {})
      await expect(cut).rejects.toMatchObject({ code: 'SVC_DEADLINE_EXCEEDED' })
      expect(events.map((event) => event.type)).toContain('abort-left-running')
      await until(() => executor.stats().running === 0)
      expect(executor.stats()).toMatchObject({ threadsReplaced: 0 })
    })
  })

  it('is answered, not started, when it waited in the queue until it could no longer finish', async () => {
    await withSpinPool(async (executor, events) => {
      // The fixture ignores the task name; 'test-fault' is only there to satisfy the types.
      const blocker = executor.execute('test-fault', { ms: 600 } as never)
      // Estimated at 2 s, due in 1.1 s: admissible now (2 s at twice the speed fits), not once 600 ms have gone.
      const late = executor.execute('test-fault', { ms: 10 } as never, { costMs: 2000, deadline: { at: performance.now() + 1100, ms: 1100 } })
      await blocker
      await expect(late).rejects.toMatchObject({ code: 'SVC_DEADLINE_EXCEEDED' })
      const settled = events.filter((event) => event.type === 'task-settled')
      expect(settled.map((event) => event.status).sort()).toEqual(['aborted', 'completed'])
      expect(settled.find((event) => event.status === 'aborted')).toMatchObject({ abortReason: 'deadline', startedAt: undefined })
      expect(executor.stats()).toMatchObject({ running: 0, queued: 0, threadsReplaced: 0 })
    })
  })
})
