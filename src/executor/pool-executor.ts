import { Piscina } from 'piscina'
import { compiledPath } from '../paths.js'
import { onAbort } from './cancellation.js'
import { abortError, createExecutor, type Executor, type ExecutorOptions, type RunOptions, type TaskMessage, type TaskOutcome } from './executor.js'

export interface PoolExecutorOptions {
  threads: number
  maxQueue: number
  /** V8 old-generation heap limit per worker thread: a runaway task kills its thread, not the process. */
  maxOldGenerationMb: number
  /** Nice value of the worker threads (0-19), so the event loop gets a core first; see workers/pool-worker.ts. */
  workerNice?: number
  tasks: ExecutorOptions['tasks']
  /** The worker entry point, by path: the pool never imports it. Tests substitute their own. */
  filename?: string
}

/** The compiled entry of every pool thread. */
export const workerEntry = compiledPath('workers/pool-worker.js')

/** The part of Piscina's worker view (type `PiscinaWorker`, not exported from its entry point) used here. */
interface PoolWorker {
  readonly destroyed: boolean
}

interface Waiting {
  message: TaskMessage
  options: RunOptions
  resolve: (outcome: TaskOutcome) => void
  reject: (error: unknown) => void
  /** Stops listening for an abort while queued here. */
  release: () => void
}

/**
 * Tasks wait in this module's own queue and reach Piscina only when a ready thread is free, so
 * Piscina's queue stays empty: Piscina 5.3 hands queued tasks to workers still booting, and an
 * abort of such a task stops it replacing crashed threads for good (docs/how-it-works.md;
 * test/pool-executor.test.ts reproduces it). Aborting a task queued here is a plain removal;
 * aborting a running one is Piscina's: it terminates and replaces that thread.
 */
export function createPoolExecutor ({ threads, maxQueue, maxOldGenerationMb, workerNice = 0, tasks, filename = workerEntry }: PoolExecutorOptions): Executor {
  const pool = new Piscina<TaskMessage, TaskOutcome>({
    filename,
    // A fixed-size pool, started up front: CPU-bound work gains nothing from more threads than
    // cores, and a thread spun up on demand would put its start-up cost on a request.
    minThreads: threads,
    maxThreads: threads,
    resourceLimits: { maxOldGenerationSizeMb: maxOldGenerationMb },
    // Read by workers/pool-worker.ts.
    workerData: { nice: workerNice }
  })
  const ready = new Set<PoolWorker>()
  const waiting: Waiting[] = []
  let running = 0

  function pump () {
    while (running < ready.size && waiting.length > 0) {
      const entry = waiting.shift()!
      entry.release()
      dispatch(entry.message, entry.options).then(entry.resolve, entry.reject)
    }
  }

  function dispatch (message: TaskMessage, { signal, transferList, onStart }: RunOptions): Promise<TaskOutcome> {
    running++
    onStart?.()
    return pool.run(message, { signal, transferList }).finally(() => {
      running--
      pump()
    })
  }

  const executor = createExecutor({
    kind: 'pool',
    run: (message, options) => {
      const { signal } = options
      if (signal?.aborted === true) return Promise.reject(abortError(signal.reason))
      // A free thread and nobody waiting: straight to Piscina, which then runs it at once.
      if (running < ready.size && waiting.length === 0) return dispatch(message, options)
      return new Promise<TaskOutcome>((resolve, reject) => {
        const entry: Waiting = { message, options, resolve, reject, release: () => {} }
        if (signal !== undefined) {
          entry.release = onAbort(signal, () => {
            waiting.splice(waiting.indexOf(entry), 1)
            reject(abortError(signal.reason))
          })
        }
        waiting.push(entry)
      })
    },
    threads: () => pool.threads.length,
    queued: () => waiting.length,
    close: () => pool.close()
  }, { maxQueue, threads, tasks })

  let created = 0
  // Piscina announces a worker once it is ready for tasks, and again when it is gone. The objects
  // it passes are live views of its workers (a fresh one each time, and the thread id of a dead
  // worker reads -1), so a departure is found by asking each known worker whether it is destroyed.
  pool.on('workerCreate', (worker: PoolWorker) => {
    ready.add(worker)
    if (++created > threads) executor.threadReplaced()
    // Piscina emits this before it files the worker as ready; a task submitted synchronously here
    // would miss it and land in Piscina's own queue, which is what this module avoids.
    queueMicrotask(pump)
  })
  pool.on('workerDestroy', () => {
    for (const worker of ready) if (worker.destroyed) ready.delete(worker)
  })
  // Piscina reports a worker that dies while idle as an 'error' event; unhandled, that would
  // take the whole process down. The pool has already started a replacement.
  pool.on('error', (error: unknown) => {
    process.emitWarning(`worker thread failed while idle: ${String(error)}`)
  })
  return executor
}
