import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import { describe, expect, it } from 'vitest'
import { createPoolExecutor, threadOptions } from '../src/executor/pool-executor.js'
import { taskTable } from './support/task-table.js'

const slowBootWorker = fileURLToPath(new URL('./fixtures/slow-boot-worker.mjs', import.meta.url))

/**
 * One thread crashes; while its replacement boots, the other thread frees up with tasks waiting,
 * and those tasks are aborted. Then more crashes. A healthy pool ends with all its threads.
 */
async function crashAbortCrash (run: (input: { kind?: 'exit', ms?: number }, signal?: AbortSignal) => Promise<unknown>) {
  await Promise.all([run({ ms: 1 }), run({ ms: 1 })])
  const busy = run({ ms: 100 })
  await run({ kind: 'exit' }).catch(() => {})
  const controllers = [new AbortController(), new AbortController()]
  const waiting = controllers.map((controller) => run({ ms: 300 }, controller.signal).catch((error: Error) => error.name))
  await busy
  for (const controller of controllers) controller.abort()
  expect(await Promise.all(waiting)).toEqual(['AbortError', 'AbortError'])
  await sleep(500)
  for (let i = 0; i < 2; i++) await run({ kind: 'exit' }).catch(() => {})
  await sleep(800)
}

describe('the pool executor under crashes and aborts', () => {
  it('keeps every thread', async () => {
    const executor = createPoolExecutor({ threads: 2, maxQueueMs: 10_000, maxOldGenerationMb: 64, tasks: taskTable, filename: slowBootWorker })
    await sleep(400)
    // The fixture ignores the task name; 'test-fault' is only there to satisfy the types.
    await crashAbortCrash((input, signal) => executor.execute('test-fault', input as never, signal === undefined ? {} : { signal }))
    expect(executor.stats().threads).toBe(2)
    await executor.close()
  })

  // Why the executor queues tasks itself: Piscina 5.3 alone loses threads in the same scenario.
  // If this starts failing, Piscina has fixed it and pool-executor.ts's own queue could go.
  it('(Piscina alone, for comparison, ends with fewer threads)', async () => {
    const pool = new Piscina({ ...threadOptions(slowBootWorker), minThreads: 2, maxThreads: 2 })
    await sleep(400)
    await crashAbortCrash((input, signal) => pool.run({ input }, signal === undefined ? {} : { signal }))
    expect(pool.threads.length).toBeLessThan(2)
    await pool.destroy()
  })
})
