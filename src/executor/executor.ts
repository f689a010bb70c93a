import { performance } from 'node:perf_hooks'
import type { TransferListItem } from 'node:worker_threads'
import { ClientDisconnectedError, DeadlineExceededError, QueueFullError } from '../errors.js'
import { childOf, type TaskSignal } from './cancellation.js'

export type { TaskSignal }

/**
 * Every task a worker can run, by name, as `name: (input) => value`. Empty here: the composition
 * point (src/app.ts) extends it with the workers' task table, so src never imports workers/.
 */
export interface TaskRegistry {}
export type TaskName = keyof TaskRegistry & string
type TaskFunction<N extends TaskName> = TaskRegistry[N] extends (input: never) => unknown ? TaskRegistry[N] : never
export type TaskInput<N extends TaskName> = Parameters<TaskFunction<N>>[0]
export type TaskValue<N extends TaskName> = ReturnType<TaskFunction<N>>

/** What crosses to a worker thread. */
export interface TaskMessage {
  task: string
  input: unknown
}

export interface TaskOutcome<V = unknown> {
  value: V
  /** Time the task function itself ran, measured where it ran: the CPU work without hand-off or queueing. */
  kernelMs: number
}

/** Runs one task message synchronously: the workers' entry, also called on the event loop for inline work. */
export type RunTask = (message: TaskMessage) => TaskOutcome

export const EXECUTOR_KINDS = ['pool', 'inline'] as const
export type ExecutorKind = typeof EXECUTOR_KINDS[number]

export const ABORT_REASONS = ['deadline', 'disconnect', 'sibling-failed', 'shutdown', 'unknown'] as const
export type AbortReason = typeof ABORT_REASONS[number]

export interface ExecuteOptions {
  /** Aborts the task: dropped from the queue, or its thread terminated if it is running. */
  signal?: TaskSignal
  /** Buffers in the input to move to the worker instead of copying them. */
  transferList?: TransferListItem[]
  /** Units of work (terms, values) of each input, in order: reported in the tasks' events. */
  sizes?: readonly number[]
}

/** What a runner gets: the caller's options, and how to say when the task leaves the queue for a thread. */
export interface RunOptions extends ExecuteOptions {
  onStart?: () => void
}

export interface ExecutorStats {
  kind: ExecutorKind
  threads: number
  queued: number
  running: number
  /** Tasks that may wait beyond one per thread before new work is refused; null when nothing ever waits. */
  maxQueue: number | null
  /** True while new work would be refused. */
  saturated: boolean
  /** Kernel time of every task completed since start: differences over a window give utilization. */
  busyMs: number
  threadsReplaced: number
}

/**
 * What an executor reports as it works, for metrics, logs and traces. Listeners run synchronously in
 * the async context of the code that submitted the task (AsyncLocalStorage follows the executor's
 * awaits), so a tracer finds the request's span as the active one.
 */
export type ExecutorEvent =
  | {
    type: 'task-settled'
    task: TaskName
    status: 'completed' | 'failed' | 'aborted'
    /** From submission to settlement: queueing, hand-off and kernel. */
    totalMs: number
    /** Known only for completed tasks. */
    kernelMs?: number
    abortReason?: AbortReason
    /** The task's index among its request's chunks (executeAll), and their count: 0 of 1 for execute. */
    chunk?: number
    chunks?: number
    /** Units of work (terms, values), when the caller gave them (ExecuteOptions.sizes). */
    size?: number
    /** performance.now() at submission, and when the task left the queue for a thread (absent if it never did). */
    queuedAt?: number
    startedAt?: number
    /** Why a failed task failed. */
    error?: unknown
  }
  | { type: 'task-rejected', task: TaskName, reason: 'queue-full' }
  /** A worker thread died or was terminated (by an abort) and the pool started a new one. */
  | { type: 'thread-replaced' }

export type ExecutorListener = (event: ExecutorEvent) => void

/**
 * The one seam between routes and CPU work: the run_in_executor of this service.
 * Routes never see Piscina; they name a task and get its outcome.
 */
export interface Executor {
  readonly kind: ExecutorKind
  /** Every task name, for metrics to start each series at zero. */
  readonly tasks: readonly TaskName[]
  /** Runs one task; refused with a QueueFullError (503) while the queue is full. */
  execute<N extends TaskName>(task: N, input: TaskInput<N>, options?: ExecuteOptions): Promise<TaskOutcome<TaskValue<N>>>
  /**
   * Runs one task per input in parallel and gathers the outcomes in input order (asyncio.gather).
   * Admitted or refused as a whole; the first failure aborts the siblings still queued or running.
   */
  executeAll<N extends TaskName>(task: N, inputs: Array<TaskInput<N>>, options?: ExecuteOptions): Promise<Array<TaskOutcome<TaskValue<N>>>>
  /** Runs a task on the event loop, for work smaller than a hand-off costs. */
  runInline<N extends TaskName>(task: N, input: TaskInput<N>, options?: ExecuteOptions): TaskOutcome<TaskValue<N>>
  /**
   * How many chunks to cut `size` units of work into: `requested` when a client asked (at most one
   * unit each), otherwise one per thread, but none smaller than `minChunkSize`.
   */
  chunksFor(size: number, minChunkSize: number, requested?: number): number
  /** Throws a QueueFullError (503) while the queue is full: lets a request be refused before its body is read. */
  admit(task: TaskName): void
  stats(): ExecutorStats
  /** Subscribes to executor events; returns the unsubscribe function. */
  on(listener: ExecutorListener): () => void
  close(): Promise<void>
}

/** How tasks actually run: in Piscina's threads, or inline on the event loop. */
export interface TaskRunner {
  readonly kind: ExecutorKind
  run(message: TaskMessage, options: RunOptions): Promise<TaskOutcome>
  threads(): number
  queued(): number
  close(): Promise<void>
}

export interface ExecutorOptions {
  /** Tasks that may wait for a thread; null for a runner that never queues, and so never refuses. */
  maxQueue: number | null
  /** Threads that work is split for (the inline executor splits as the pool would, to compare like with like). */
  threads: number
  /** The task table: names, and the function that runs one on this thread. */
  tasks: { names: readonly string[], run: RunTask }
}

/**
 * Admission control, gathering, abort bookkeeping and events, shared by both runners.
 * A batch is admitted whole while fewer than `maxQueue` tasks wait for a thread, and refused whole
 * otherwise, so a request of many chunks is never starved by smaller ones. Admission is the
 * executor's own: Piscina's `maxQueue` does not apply to tasks submitted with a signal.
 */
export function createExecutor (runner: TaskRunner, { maxQueue, threads, tasks }: ExecutorOptions): Executor & { threadReplaced(): void } {
  const listeners = new Set<ExecutorListener>()
  const emit = (event: ExecutorEvent) => { for (const listener of listeners) listener(event) }
  let inFlight = 0
  let busyMs = 0
  let threadsReplaced = 0
  const full = () => maxQueue !== null && inFlight - runner.threads() >= maxQueue

  function admit (task: TaskName) {
    if (!full()) return
    emit({ type: 'task-rejected', task, reason: 'queue-full' })
    throw new QueueFullError()
  }

  async function run<N extends TaskName> (task: N, input: TaskInput<N>, options: ExecuteOptions, chunk = 0, chunks = 1) {
    const queuedAt = performance.now()
    const size = options.sizes?.[chunk]
    let startedAt: number | undefined
    inFlight++
    try {
      const outcome = await runner.run({ task, input }, { ...options, onStart: () => { startedAt = performance.now() } })
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
    } finally {
      inFlight--
    }
  }

  return {
    kind: runner.kind,
    tasks: tasks.names as TaskName[],
    async execute (task, input, options = {}) {
      admit(task)
      return run(task, input, options)
    },
    async executeAll (task, inputs, options = {}) {
      admit(task)
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
      if (requested !== undefined) return Math.max(1, Math.min(requested, size))
      return Math.max(1, Math.min(threads, Math.floor(size / minChunkSize)))
    },
    admit,
    stats (): ExecutorStats {
      const queued = runner.queued()
      return {
        kind: runner.kind,
        threads: runner.threads(),
        queued,
        running: Math.max(0, inFlight - queued),
        maxQueue,
        saturated: full(),
        busyMs,
        threadsReplaced
      }
    },
    on (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    threadReplaced () {
      threadsReplaced++
      emit({ type: 'thread-replaced' })
    },
    close: () => runner.close()
  }
}

/** The reason the siblings of a failed task are aborted with. */
class SiblingFailed extends Error {
  constructor (cause: unknown) {
    super('a sibling task failed', { cause })
  }
}

/** Shaped like Piscina's own abort error, so an abort reads the same wherever the task was. */
export function abortError (reason: unknown): Error {
  return Object.assign(new Error('The task has been aborted', { cause: reason }), { name: 'AbortError' })
}

function abortReasonOf (error: unknown): AbortReason | undefined {
  if (!(error instanceof Error) || error.name !== 'AbortError') return undefined
  return abortReasonFor(error.cause)
}

/** The reason a signal was aborted with, as the word metrics, logs and traces use for it. */
export function abortReasonFor (cause: unknown): AbortReason {
  if (cause instanceof DeadlineExceededError) return 'deadline'
  if (cause instanceof ClientDisconnectedError) return 'disconnect'
  if (cause instanceof SiblingFailed) return 'sibling-failed'
  if (cause === 'pool is closed') return 'shutdown'
  return 'unknown'
}
