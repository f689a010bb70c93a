import type { TransferListItem } from 'node:worker_threads'
import type { TaskSignal } from './cancellation.js'
import type { ServiceClass } from './fair-queue.js'

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
  /**
   * Aborts the task: dropped from the queue; if it is running, its thread is terminated, unless
   * finishing it is cheaper than starting a new thread (the caller is answered at once either way).
   */
  signal?: TaskSignal
  /** Buffers in the input to move to the worker instead of copying them. */
  transferList?: TransferListItem[]
  /** The work's class of service: `request` (the default) or `job`, whose policy is ServiceQueue's (fair-queue.ts). */
  priority?: ServiceClass
  /** Who the work is for (API key digest or address): the queue is shared fairly between clients. */
  client?: string
  /** Estimated milliseconds of work of each task: what it counts for in the queue. Unknown: a running abort always terminates. */
  costMs?: number
  /** Units of work (terms, values) of each input, in order: reported in the tasks' events. */
  sizes?: readonly number[]
  /** When the caller stops waiting: work that cannot finish by then is refused at admission (see createExecutor). */
  deadline?: Deadline
}

/** A request's deadline: when it falls (performance.now() time) and how long it was, for the error. */
export interface Deadline {
  at: number
  ms: number
}

/** What a runner gets: the caller's options, and how to say when the task leaves the queue for a thread. */
export interface RunOptions extends ExecuteOptions {
  /** Set by the executor: `client` always names someone (ANONYMOUS_CLIENT by default). */
  client: string
  /** Called when the task leaves the queue for a thread. */
  onStart?: () => void
}

/** The client of work submitted without one. */
export const ANONYMOUS_CLIENT = 'anonymous'

/** Hand-off cost of one task, counted on top of its estimate: 256 chunks of one term each are not free. */
export const TASK_OVERHEAD_MS = 0.05

/** Most chunks a request may be split into, per pool thread: past one per thread, more chunks only add hand-offs. */
export const MAX_CHUNKS_PER_THREAD = 4

export interface ExecutorStats {
  kind: ExecutorKind
  threads: number
  queued: number
  /** Estimated milliseconds of work waiting for a thread. */
  queuedMs: number
  /** Clients with work waiting. */
  waitingClients: number
  running: number
  /** Estimated milliseconds of work that may wait before new work is refused; null when nothing ever waits. */
  maxQueueMs: number | null
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
  /**
   * queue-full: the queue holds its bound; over-share: this client holds its share of it while others
   * wait; deadline: the work cannot finish before the request's deadline.
   */
  | { type: 'task-rejected', task: TaskName, reason: RejectReason }
  /** A worker thread died or was terminated (by an abort) and the pool started a new one. */
  | { type: 'thread-replaced' }
  /** A running task was aborted but left to finish: cheaper than replacing its thread. */
  | { type: 'abort-left-running', task: TaskName }

export const REJECT_REASONS = ['queue-full', 'over-share', 'deadline'] as const
export type RejectReason = typeof REJECT_REASONS[number]

export type ExecutorListener = (event: ExecutorEvent) => void

/**
 * The one seam between routes and CPU work: the run_in_executor of this service.
 * Routes never see Piscina; they name a task and get its outcome.
 */
export interface Executor {
  readonly kind: ExecutorKind
  /** Every task name, for metrics to start each series at zero. */
  readonly tasks: readonly TaskName[]
  /** Runs one task; refused with a QueueFullError (503) while the queue, or the client's share of it, is full. */
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
   * unit each, and MAX_CHUNKS_PER_THREAD per thread), otherwise one per thread, but none smaller
   * than `minChunkSize`.
   */
  chunksFor(size: number, minChunkSize: number, requested?: number): number
  /**
   * Throws a QueueFullError (503) while work from `client` would be refused: lets a request be
   * refused before a large body is read.
   */
  admit(task: TaskName, client?: string): void
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
  /** Threads ready and idle. */
  freeThreads(): number
  /** Tasks on a thread, aborted ones left to finish included. */
  running(): number
  queued(): number
  /** Estimated work waiting, in all or for one client. */
  queuedMs(client?: string): number
  waitingClients(): number
  close(): Promise<void>
}
