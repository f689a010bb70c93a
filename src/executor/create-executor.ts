import { performance } from 'node:perf_hooks'
import { DeadlineExceededError, QueueFullError, withRetryAfter } from '../errors.js'
import { abortReasonOf, SiblingFailed } from './abort-reasons.js'
import { childOf } from './cancellation.js'
import { cannotMeet } from './doomed-work.js'
import { isAdmitted } from './fair-queue.js'
import {
  ANONYMOUS_CLIENT, MAX_CHUNKS_PER_THREAD,
  type ExecuteOptions, type Executor, type ExecutorEvent, type ExecutorListener, type ExecutorStats,
  type RejectReason, type RunTask, type TaskInput, type TaskName, type TaskOutcome, type TaskRunner, type TaskValue
} from './executor.js'

export interface ExecutorOptions {
  /** Estimated milliseconds of work that may wait for a thread; null for a runner that never queues, and so never refuses. */
  maxQueueMs: number | null
  /** Threads that work is split for (the inline executor splits as the pool would, to compare like with like). */
  threads: number
  /** The task table: names, and the function that runs one on this thread. */
  tasks: { names: readonly string[], run: RunTask }
}

/**
 * Admission control, gathering, abort bookkeeping and events, shared by both runners.
 * The queue is counted in estimated milliseconds of work, not in tasks. A request is admitted whole
 * while its client's work waiting is below its share of `maxQueueMs` (the bound divided among the
 * clients with work waiting, itself included), and refused whole otherwise: a request of many
 * chunks is never starved by smaller ones, and one client cannot lock the others out. Admission is
 * the executor's own: Piscina's `maxQueue` does not apply to tasks submitted with a signal.
 */
export function createExecutor (runner: TaskRunner, { maxQueueMs, threads, tasks }: ExecutorOptions): Executor & { emit(event: ExecutorEvent): void } {
  const listeners = new Set<ExecutorListener>()
  const emit = (event: ExecutorEvent) => { for (const listener of listeners) listener(event) }
  let busyMs = 0
  let threadsReplaced = 0
  const idle = () => runner.freeThreads() > 0 && runner.queued() === 0
  const saturated = () => maxQueueMs !== null && runner.freeThreads() === 0 && runner.queuedMs() >= maxQueueMs

  function refusal (client: string): RejectReason | undefined {
    if (maxQueueMs === null || idle()) return undefined
    const own = runner.queuedMs(client)
    const clients = runner.waitingClients() + (own === 0 ? 1 : 0)
    if (own < maxQueueMs / clients) return undefined
    return clients === 1 ? 'queue-full' : 'over-share'
  }

  /**
   * Refuses a request whose chunk cannot finish before its deadline, with the 504 it would get at
   * the deadline anyway: doomed work never reaches a thread, so a flood of short deadlines cannot
   * make the pool terminate and restart threads at its pace, nor hold threads the others need.
   */
  function refuseDoomed (task: TaskName, { deadline, costMs }: ExecuteOptions) {
    if (!cannotMeet(deadline, costMs)) return
    emit({ type: 'task-rejected', task, reason: 'deadline' })
    throw new DeadlineExceededError(deadline.ms)
  }

  function admit (task: TaskName, client = ANONYMOUS_CLIENT) {
    const reason = refusal(client)
    if (reason === undefined) return
    emit({ type: 'task-rejected', task, reason })
    throw withRetryAfter(new QueueFullError(), queueWaitMs(reason, client) / 1000)
  }

  /**
   * When a refused client may expect room, from the estimated work waiting: the whole queue drains
   * over every thread; a client over its share drains its own work at its share of the threads.
   */
  function queueWaitMs (reason: RejectReason, client: string): number {
    const threads = Math.max(1, runner.threads())
    if (reason === 'queue-full') return runner.queuedMs() / threads
    return runner.queuedMs(client) * Math.max(1, runner.waitingClients()) / threads
  }

  function admitRequest (task: TaskName, options: ExecuteOptions) {
    refuseDoomed(task, options)
    admit(task, options.client)
  }

  async function run<N extends TaskName> (task: N, input: TaskInput<N>, options: ExecuteOptions, chunk = 0, chunks = 1) {
    const queuedAt = performance.now()
    const size = options.sizes?.[chunk]
    let startedAt: number | undefined
    try {
      const outcome = await runner.run({ task, input }, {
        ...options,
        client: options.client ?? ANONYMOUS_CLIENT,
        onStart: () => { startedAt = performance.now() }
      })
      busyMs += outcome.kernelMs
      emit({ type: 'task-settled', task, status: 'completed', totalMs: performance.now() - queuedAt, kernelMs: outcome.kernelMs, chunk, chunks, size, queuedAt, startedAt })
      return outcome as TaskOutcome<TaskValue<N>>
    } catch (error) {
      const abortReason = abortReasonOf(error)
      emit({
        type: 'task-settled',
        task,
        status: abortReason === undefined ? 'failed' : 'aborted',
        totalMs: performance.now() - queuedAt,
        abortReason,
        chunk,
        chunks,
        size,
        queuedAt,
        startedAt,
        ...(abortReason === undefined ? { error } : {})
      })
      // An abort for a deadline or a disconnect surfaces as that error, with its own status code.
      throw abortReason === 'deadline' || abortReason === 'disconnect' ? (error as Error).cause : error
    }
  }

  return {
    kind: runner.kind,
    tasks: tasks.names as TaskName[],
    async execute (task, input, options = {}) {
      if (isAdmitted(options.priority ?? 'request')) admitRequest(task, options)
      return run(task, input, options)
    },
    async executeAll (task, inputs, options = {}) {
      if (isAdmitted(options.priority ?? 'request')) admitRequest(task, options)
      if (inputs.length === 1) return [await run(task, inputs[0]!, options)]
      // The request's own signal still aborts every chunk; the first failure aborts the others.
      const { child: signal, release } = childOf(options.signal, inputs.length)
      try {
        return await Promise.all(inputs.map((input, chunk) => run(task, input, { ...options, signal }, chunk, inputs.length)))
      } catch (error) {
        signal.abort(new SiblingFailed(error))
        throw error
      } finally {
        release()
      }
    },
    runInline (task, input, options = {}) {
      options.signal?.throwIfAborted()
      return tasks.run({ task, input }) as TaskOutcome<never>
    },
    chunksFor (size, minChunkSize, requested) {
      if (requested !== undefined) return Math.max(1, Math.min(requested, size, MAX_CHUNKS_PER_THREAD * threads))
      return Math.max(1, Math.min(threads, Math.floor(size / minChunkSize)))
    },
    admit,
    stats (): ExecutorStats {
      const queued = runner.queued()
      return {
        kind: runner.kind,
        threads: runner.threads(),
        queued,
        queuedMs: Math.round(runner.queuedMs() * 1000) / 1000,
        waitingClients: runner.waitingClients(),
        running: runner.running(),
        maxQueueMs,
        saturated: saturated(),
        busyMs,
        threadsReplaced
      }
    },
    on (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    emit (event) {
      if (event.type === 'thread-replaced') threadsReplaced++
      emit(event)
    },
    close: () => runner.close()
  }
}
