import { Piscina } from 'piscina'
import type { TaskMessage, TaskOutcome } from '../../workers/run-task.js'
import { createExecutor, type Executor } from './executor.js'
import { workerEntry } from './worker-entry.js'

export interface PoolExecutorOptions {
  threads: number
  maxQueue: number
  /** V8 old-generation heap limit per worker thread: a runaway task kills its thread, not the process. */
  maxOldGenerationMb: number
}

export function createPoolExecutor ({ threads, maxQueue, maxOldGenerationMb }: PoolExecutorOptions): Executor {
  const pool = new Piscina<TaskMessage, TaskOutcome>({
    filename: workerEntry,
    // A fixed-size pool, started up front: CPU-bound work gains nothing from more threads than
    // cores, and a thread spun up on demand would put its start-up cost on a request.
    minThreads: threads,
    maxThreads: threads,
    resourceLimits: { maxOldGenerationSizeMb: maxOldGenerationMb }
  })
  const executor = createExecutor({
    kind: 'pool',
    run: (message, { signal, transferList }) => pool.run(message, { signal, transferList }),
    threads: () => pool.threads.length,
    queued: () => pool.queueSize,
    close: () => pool.close()
  }, { maxQueue })

  let created = 0
  pool.on('workerCreate', () => {
    if (++created > threads) executor.threadReplaced()
  })
  // Piscina reports a worker that dies while idle as an 'error' event; unhandled, that would
  // take the whole process down. The pool has already started a replacement.
  pool.on('error', (error: unknown) => {
    process.emitWarning(`worker thread failed while idle: ${String(error)}`)
  })
  return executor
}
