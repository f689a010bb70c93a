import { performance } from 'node:perf_hooks'
import { Piscina } from 'piscina'
import { compiledPath } from '../platform/paths.js'
import { Cancellation, onAbort } from './cancellation.js'
import { DeadlineExceededError } from '../errors.js'
import { abortError } from './abort-reasons.js'
import { createExecutor, type ExecutorOptions } from './create-executor.js'
import { cannotMeet } from './doomed-work.js'
import { TASK_OVERHEAD_MS, type Executor, type RunOptions, type TaskMessage, type TaskName, type TaskOutcome } from './executor.js'
import { defaultJobThreads, ServiceQueue, type FairItem, type ServiceClass } from './fair-queue.js'

export interface PoolExecutorOptions {
  threads: number
  /** Estimated milliseconds of work that may wait for a thread (see createExecutor). */
  maxQueueMs: number
  /** V8 old-generation heap limit per worker thread: a runaway task kills its thread, not the process. */
  maxOldGenerationMb: number
  /** Nice value of the worker threads (0-19), so the event loop gets a core first; see workers/pool-worker.ts. */
  workerNice?: number
  tasks: ExecutorOptions['tasks']
  /** Most threads that may run job chunks at once (default: all but one); requests always come first. */
  jobThreads?: number
  /** The worker entry point, by path: the pool never imports it. Tests substitute their own. */
  filename?: string
}

/** The compiled entry of every pool thread. */
export const workerEntry = compiledPath('workers/pool-worker.js')

/**
 * Piscina's options that load an ES module entry in each thread through workers/thread-entry.cts,
 * never through require(esm); `nice` is read by workers/pool-worker.ts.
 */
export function threadOptions (entry: string, nice = 0) {
  return { filename: compiledPath('workers/thread-entry.cjs'), workerData: { entry, nice } }
}

/**
 * What replacing a worker thread costs: 75 ms and more from the abort until the new thread is
 * ready, and ~60 ms of CPU (docs/hostile-clients.md). A task aborted with less estimated work left
 * is left to finish: its time is then charged to its own client in the fair queue, where a
 * replacement's would be paid by every client. Estimates and this figure are both quiet-machine times.
 */
export const THREAD_START_MS = 100

/** The part of Piscina's worker view (type `PiscinaWorker`, not exported from its entry point) used here. */
interface PoolWorker {
  readonly destroyed: boolean
}

interface Waiting extends FairItem {
  serviceClass: ServiceClass
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
 * test/pool-executor.test.ts reproduces it). The queue is fair between clients (FairQueue).
 * Aborting a task queued here is a plain removal. Aborting a running one terminates its thread
 * (Piscina replaces it), unless the task's estimated remaining work is below THREAD_START_MS or
 * below what it has already run: then
 * the caller is answered at once and the task finishes unseen, so a flood of very short deadlines
 * cannot keep the pool busy restarting threads; a queued request whose turn comes when it can no
 * longer finish before its deadline is answered instead of started (src/executor/doomed-work.ts). Job chunks wait in a
 * class of service of their own, whose policy is ServiceQueue's (fair-queue.ts; docs/jobs.md).
 */
export function createPoolExecutor ({ threads, maxQueueMs, maxOldGenerationMb, workerNice = 0, tasks, jobThreads = defaultJobThreads(threads), filename = workerEntry }: PoolExecutorOptions): Executor {
  const pool = new Piscina<TaskMessage, TaskOutcome>({
    ...threadOptions(filename, workerNice),
    // A fixed-size pool, started up front: CPU-bound work gains nothing from more threads than
    // cores, and a thread spun up on demand would put its start-up cost on a request.
    minThreads: threads,
    maxThreads: threads,
    resourceLimits: { maxOldGenerationSizeMb: maxOldGenerationMb },
    // Piscina's wait and run histograms: nothing reads them (the executor's events feed the metrics),
    // and they cost two clock reads and two histogram records per task on the event loop.
    recordTiming: false
  })
  const ready = new Set<PoolWorker>()
  const waiting = new ServiceQueue<Waiting>(jobThreads)
  let running = 0
  const classOf = (options: RunOptions): ServiceClass => options.priority ?? 'request'

  function pump () {
    while (running < ready.size) {
      const entry = waiting.shift()
      if (entry === undefined) return
      entry.release()
      // Work that waited past the point where it could still finish: answered now, not started and then terminated.
      const { deadline, costMs } = entry.options
      if (cannotMeet(deadline, costMs)) entry.reject(abortError(new DeadlineExceededError(deadline.ms)))
      else dispatch(entry.message, entry.options, entry.resolve, entry.reject)
    }
  }

  /** Hands a task to Piscina and settles the caller's promise from Piscina's: each promise between them costs the event loop on every task. */
  function dispatch (message: TaskMessage, options: RunOptions, resolve: (outcome: TaskOutcome) => void, reject: (error: unknown) => void): void {
    const { signal, transferList, costMs, onStart } = options
    const serviceClass = classOf(options)
    running++
    waiting.started(serviceClass)
    onStart?.()
    // What Piscina sees: aborted only when the thread is to be terminated.
    const terminate = new Cancellation()
    const startedAt = performance.now()
    const stop = signal === undefined
      ? undefined
      : onAbort(signal, () => {
        // Left to finish when less is left than a replacement costs, or than the task has already
        // run: work admitted against its deadline (doomed-work.ts) has run at least half its
        // estimate when the deadline cuts it, so deadlines never replace threads at a client's pace.
        const ran = performance.now() - startedAt
        const left = costMs === undefined ? Infinity : costMs - ran
        if (left >= Math.max(THREAD_START_MS, ran)) return terminate.abort(signal.reason)
        executor.emit({ type: 'abort-left-running', task: message.task as TaskName })
        reject(abortError(signal.reason))
      })
    // The thread counts as free again (a waiting task is started) before the caller hears of the outcome.
    const settled = () => {
      running--
      waiting.finished(serviceClass)
      pump()
      stop?.()
    }
    pool.run(message, { signal: terminate, transferList }).then(
      (outcome) => { settled(); resolve(outcome) },
      (error: unknown) => { settled(); reject(error) })
  }

  const executor = createExecutor({
    kind: 'pool',
    run: (message, options) => {
      const { signal } = options
      if (signal?.aborted === true) return Promise.reject(abortError(signal.reason))
      const serviceClass = classOf(options)
      // Job work does not count in the request queue's bound: it costs nothing there.
      const costMs = serviceClass === 'request' ? (options.costMs ?? 0) + TASK_OVERHEAD_MS : 0
      // A free thread and nothing ahead of it: straight to Piscina, which then runs it at once.
      if (running < ready.size && waiting.startsAtOnce(serviceClass)) {
        if (serviceClass === 'request') waiting.requests.charge({ client: options.client, costMs })
        return new Promise<TaskOutcome>((resolve, reject) => { dispatch(message, options, resolve, reject) })
      }
      return new Promise<TaskOutcome>((resolve, reject) => {
        const entry: Waiting = { client: options.client, costMs, serviceClass, message, options, resolve, reject, release: () => {} }
        if (signal !== undefined) {
          entry.release = onAbort(signal, () => {
            waiting.remove(entry)
            reject(abortError(signal.reason))
          })
        }
        waiting.push(entry)
      })
    },
    threads: () => pool.threads.length,
    // Threads still starting (at boot, or replacing one that died) count as free: work waits for them.
    freeThreads: () => Math.max(0, threads - running),
    running: () => running,
    queued: () => waiting.length,
    queuedMs: (client) => client === undefined ? waiting.requests.costMs : waiting.requests.costOf(client),
    waitingClients: () => waiting.requests.clientCount,
    close: () => pool.close()
  }, { maxQueueMs, threads, tasks })

  let created = 0
  // Piscina announces a worker once it is ready for tasks, and again when it is gone. The objects
  // it passes are live views of its workers (a fresh one each time, and the thread id of a dead
  // worker reads -1), so a departure is found by asking each known worker whether it is destroyed.
  pool.on('workerCreate', (worker: PoolWorker) => {
    ready.add(worker)
    if (++created > threads) executor.emit({ type: 'thread-replaced' })
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
