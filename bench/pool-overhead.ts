import { Piscina } from 'piscina'
import type { TaskMessage, TaskOutcome } from '../src/executor/executor.js'
import { createPoolExecutor, threadOptions, workerEntry } from '../src/executor/pool-executor.js'
import { taskTable } from '../test/support/task-table.js'
import { formatTable, medianOf, type BenchRow } from './measure.js'

const THREADS = 2
const IN_FLIGHT = 64
const trivial: TaskMessage = { task: 'sum-of-squares', input: { start: 0, end: 1 } }
const million: TaskMessage = { task: 'sum-of-squares', input: { start: 0, end: 1_000_000 } }

type Atomics = 'sync' | 'async' | 'disabled'

async function withPool<T> (atomics: Atomics, use: (pool: Piscina<TaskMessage, TaskOutcome>) => Promise<T>): Promise<T> {
  const pool = new Piscina<TaskMessage, TaskOutcome>({ ...threadOptions(workerEntry), minThreads: THREADS, maxThreads: THREADS, atomics })
  try {
    await Promise.all(Array.from({ length: THREADS * 4 }, () => pool.run(trivial))) // threads up and the task compiled
    return await use(pool)
  } finally {
    await pool.close()
  }
}

/**
 * What handing a task to a worker thread and getting its answer back costs, in microseconds per
 * task: a trivial task (one term) called directly, through Piscina in each atomics mode, and
 * through the service's pool executor; one at a time (the latency a request pays) and with
 * 64 in flight (the event-loop cost per task when the pool is kept busy).
 */
export async function poolOverheadBench (): Promise<string> {
  const runTask = taskTable.run
  const rows: BenchRow[] = [await medianOf('direct call, no pool', 1, () => runTask(trivial))]
  for (const atomics of ['sync', 'async', 'disabled'] as const) {
    await withPool(atomics, async (pool) => {
      rows.push(await medianOf(`Piscina atomics '${atomics}', one at a time`, 1, () => pool.run(trivial)))
      rows.push(await medianOf(`Piscina atomics '${atomics}', ${IN_FLIGHT} in flight`, IN_FLIGHT,
        () => Promise.all(Array.from({ length: IN_FLIGHT }, () => pool.run(trivial)))))
    })
  }
  // The service's own settings, so the figure includes everything its executor adds to Piscina.
  const settings = { threads: THREADS, workerNice: 0, maxQueueMs: 1_000_000, maxOldGenerationMb: 512, tasks: taskTable }
  const executor = createPoolExecutor(settings)
  try {
    const input = { start: 0, end: 1 }
    await Promise.all(Array.from({ length: THREADS * 4 }, () => executor.execute('sum-of-squares', input)))
    rows.push(await medianOf('service pool executor, one at a time', 1, () => executor.execute('sum-of-squares', input)))
    rows.push(await medianOf(`service pool executor, ${IN_FLIGHT} in flight`, IN_FLIGHT,
      () => Promise.all(Array.from({ length: IN_FLIGHT }, () => executor.execute('sum-of-squares', input)))))
    const range = { start: 0, end: 1_000_000 }
    rows.push(await medianOf('10^6 terms, direct call', 1, () => runTask(million)))
    rows.push(await medianOf('10^6 terms, service pool executor, one at a time', 1, () => executor.execute('sum-of-squares', range)))
  } finally {
    await executor.close()
  }
  return formatTable(['task', 'median µs/task'], rows.map((row) => [row.name, (row.medianNs / row.units / 1000).toFixed(1)]))
}
