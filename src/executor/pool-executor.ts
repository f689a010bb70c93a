import { performance } from 'node:perf_hooks'
import { Piscina } from 'piscina'
import type { PoolWorkerData } from '../../workers/pool-worker.js'
import type { TaskMessage, TaskOutcome } from '../../workers/run-task.js'
import { createEmitter, isAbortError, type Executor, type ExecutorStats } from './executor.js'
import { workerEntry } from './worker-entry.js'

export interface PoolExecutorOptions {
  threads: number
  /** Nice value of the worker threads (0-19), so the event loop gets a core first; see workers/pool-worker.ts. */
  workerNice?: number
}

export function createPoolExecutor ({ threads, workerNice = 0 }: PoolExecutorOptions): Executor {
  const pool = new Piscina<TaskMessage, TaskOutcome>({
    filename: workerEntry,
    // A fixed-size pool, started up front: CPU-bound work gains nothing from more threads than
    // cores, and a thread spun up on demand would put its start-up cost on a request.
    minThreads: threads,
    maxThreads: threads,
    workerData: { nice: workerNice } satisfies PoolWorkerData
  })
  const events = createEmitter()
  let inFlight = 0
  let busyMs = 0
  let created = 0

  pool.on('workerCreate', () => {
    if (++created > threads) events.emit({ type: 'thread-replaced' })
  })
  // Piscina reports a worker that dies while idle as an 'error' event; unhandled, that would
  // take the whole process down. The pool has already started a replacement.
  pool.on('error', (error: unknown) => {
    process.emitWarning(`worker thread failed while idle: ${String(error)}`)
  })

  return {
    kind: 'pool',
    async execute (task, input, options = {}) {
      const submitted = performance.now()
      inFlight++
      try {
        const outcome = await pool.run({ task, input }, { signal: options.signal, transferList: options.transferList })
        busyMs += outcome.kernelMs
        events.emit({ type: 'task-settled', task, status: 'completed', totalMs: performance.now() - submitted, kernelMs: outcome.kernelMs })
        return outcome as never
      } catch (error) {
        events.emit({ type: 'task-settled', task, status: isAbortError(error) ? 'aborted' : 'failed', totalMs: performance.now() - submitted })
        throw error
      } finally {
        inFlight--
      }
    },
    stats (): ExecutorStats {
      const queued = pool.queueSize
      return { kind: 'pool', threads: pool.threads.length, queued, running: inFlight - queued, busyMs }
    },
    on: events.on,
    close: () => pool.close()
  }
}
