import { performance } from 'node:perf_hooks'
import type { TransferListItem } from 'node:worker_threads'
import type { TaskMessage, TaskOutcome } from '../../workers/run-task.js'
import type { TaskInput, TaskName, TaskValue } from '../../workers/tasks.js'
import { ClientDisconnectedError, DeadlineExceededError, QueueFullError } from '../errors.js'
import { childOf, type TaskSignal } from './cancellation.js'

export type { TaskName, TaskInput, TaskValue, TaskOutcome, TaskSignal }

export interface ExecuteOptions {
  /** Aborts the task: dropped from the queue, or its thread terminated if it is running. */
  signal?: TaskSignal
  /** Buffers in the input to move to the worker instead of copying them. */
  transferList?: TransferListItem[]
}

export interface ExecutorStats {
  kind: 'pool' | 'inline'
  threads: number
  queued: number
  running: number
  /** Tasks that may wait beyond one per thread before new work is refused; null when nothing ever waits. */
  maxQueue: number | null
  /** True while new work would be refused: readiness reports 503 so balancers route elsewhere. */
  saturated: boolean
  /** Kernel time of every task completed since start: differences over a window give utilization. */
  busyMs: number
  threadsReplaced: number
}

export type AbortReason = 'deadline' | 'disconnect' | 'sibling-failed' | 'shutdown' | 'unknown'

/** What an executor reports as it works, for metrics and logs. */
export type ExecutorEvent =
  | {
    type: 'task-settled'
    task: TaskName
    status: 'completed' | 'failed' | 'aborted'
    /** From submission to settlement: queueing, hand-off and kernel. */
    totalMs: number
    /** Time in the task function itself; known only for completed tasks. */
    kernelMs?: number
    /** Why an aborted task was aborted. */
    abortReason?: AbortReason
  }
  /** Refused before it was queued: the queue was full. `task` is unknown when refused before the body was read. */
  | { type: 'task-rejected', task?: TaskName, reason: 'queue-full' }
  /** A worker thread died or was terminated (by an abort) and the pool started a new one. */
  | { type: 'thread-replaced' }

export type ExecutorListener = (event: ExecutorEvent) => void

/**
 * The one seam between routes and CPU work: the run_in_executor of this service.
 * Routes never see Piscina; they name a task and get its outcome.
 */
export interface Executor {
  readonly kind: 'pool' | 'inline'
  /** Runs one task; refused with a QueueFullError (503) while the queue is full. */
  execute<N extends TaskName>(task: N, input: TaskInput<N>, options?: ExecuteOptions): Promise<TaskOutcome<TaskValue<N>>>
  /**
   * Runs one task per input in parallel and gathers the outcomes in input order (asyncio.gather).
   * Admitted or refused as a whole; the first failure aborts the siblings still queued or running,
   * so a failed request does not keep threads busy with work nobody will read.
   */
  executeAll<N extends TaskName>(task: N, inputs: Array<TaskInput<N>>, options?: ExecuteOptions): Promise<Array<TaskOutcome<TaskValue<N>>>>
  /** Throws a QueueFullError (503) while the queue is full: lets a request be refused before its body is read. */
  admit(task?: TaskName): void
  stats(): ExecutorStats
  /** Subscribes to executor events; returns the unsubscribe function. */
  on(listener: ExecutorListener): () => void
  close(): Promise<void>
}

/** How tasks actually run: in Piscina's threads, or inline on the event loop. */
export interface TaskRunner {
  readonly kind: 'pool' | 'inline'
  run(message: TaskMessage, options: ExecuteOptions): Promise<TaskOutcome>
  threads(): number
  queued(): number
  close(): Promise<void>
}

export interface ExecutorOptions {
  /** Tasks that may wait for a thread; null for a runner that never queues, and so never refuses. */
  maxQueue: number | null
}

/**
 * Admission control, gathering, abort bookkeeping and events, shared by both runners.
 *
 * Admission is the service's own: Piscina's `maxQueue` is not applied to tasks submitted with an
 * AbortSignal (measured with piscina 5.3.2: 20 such tasks on 2 threads with maxQueue 4 were all
 * queued), and every task here carries one. A batch is admitted whole while fewer than `maxQueue`
 * tasks wait for a thread, and refused whole otherwise: a request of many chunks is never
 * starved by smaller ones, and the queue never holds more than maxQueue + 255 tasks.
 */
export function createExecutor (runner: TaskRunner, { maxQueue }: ExecutorOptions): Executor & { threadReplaced(): void } {
  const listeners = new Set<ExecutorListener>()
  const emit = (event: ExecutorEvent) => { for (const listener of listeners) listener(event) }
  let inFlight = 0
  let busyMs = 0
  let threadsReplaced = 0

  const full = () => maxQueue !== null && inFlight - runner.threads() >= maxQueue

  function admit (task?: TaskName) {
    if (!full()) return
    emit({ type: 'task-rejected', ...(task === undefined ? {} : { task }), reason: 'queue-full' })
    throw new QueueFullError()
  }

  async function run<N extends TaskName> (task: N, input: TaskInput<N>, options: ExecuteOptions) {
    const submitted = performance.now()
    inFlight++
    try {
      const outcome = await runner.run({ task, input }, options)
      busyMs += outcome.kernelMs
      emit({ type: 'task-settled', task, status: 'completed', totalMs: performance.now() - submitted, kernelMs: outcome.kernelMs })
      return outcome as TaskOutcome<TaskValue<N>>
    } catch (error) {
      const abortReason = abortReasonOf(error)
      emit({ type: 'task-settled', task, status: abortReason === undefined ? 'failed' : 'aborted', totalMs: performance.now() - submitted, abortReason })
      // An abort for a deadline or a disconnect surfaces as that error, with its own status code.
      throw abortReason === 'deadline' || abortReason === 'disconnect' ? (error as Error).cause : error
    } finally {
      inFlight--
    }
  }

  return {
    kind: runner.kind,
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
        return await Promise.all(inputs.map((input) => run(task, input, { ...options, signal })))
      } catch (error) {
        signal.abort(new SiblingFailed(error))
        throw error
      } finally {
        release()
      }
    },
    admit,
    stats (): ExecutorStats {
      const threads = runner.threads()
      const queued = runner.queued()
      return {
        kind: runner.kind,
        threads,
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
  const cause = error.cause
  if (cause instanceof DeadlineExceededError) return 'deadline'
  if (cause instanceof ClientDisconnectedError) return 'disconnect'
  if (cause instanceof SiblingFailed) return 'sibling-failed'
  if (cause === 'pool is closed') return 'shutdown'
  return 'unknown'
}
