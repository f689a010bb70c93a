import type { TransferListItem } from 'node:worker_threads'
import type { TaskOutcome } from '../../workers/run-task.js'
import type { TaskInput, TaskName, TaskValue } from '../../workers/tasks.js'

export type { TaskName, TaskInput, TaskValue, TaskOutcome }

export interface ExecuteOptions {
  /** Aborts the task: dropped from the queue, or its thread terminated if it is running. */
  signal?: AbortSignal
  /** Buffers in the input to move to the worker instead of copying them. */
  transferList?: TransferListItem[]
}

export interface ExecutorStats {
  kind: 'pool' | 'inline'
  threads: number
  queued: number
  running: number
  /** Kernel time of every task completed since start: differences over a window give utilization. */
  busyMs: number
}

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
    /** Why an aborted task was aborted, when the abort signal's reason says. */
    abortReason?: AbortReason
  }
  /** Refused before it was queued: the queue was full. */
  | { type: 'task-rejected', task: TaskName, reason: 'queue-full' }
  /** A worker thread died or was terminated (by an abort) and the pool started a new one. */
  | { type: 'thread-replaced' }

export type AbortReason = 'deadline' | 'disconnect' | 'sibling-failed' | 'shutdown'

export type ExecutorListener = (event: ExecutorEvent) => void

/**
 * The one seam between routes and CPU work: the run_in_executor of this service.
 * Routes never see Piscina; they name a task and get its outcome.
 */
export interface Executor {
  readonly kind: 'pool' | 'inline'
  execute<N extends TaskName>(task: N, input: TaskInput<N>, options?: ExecuteOptions): Promise<TaskOutcome<TaskValue<N>>>
  stats(): ExecutorStats
  /** Subscribes to executor events; returns the unsubscribe function. */
  on(listener: ExecutorListener): () => void
  close(): Promise<void>
}

/** A minimal listener set shared by the executors. */
export function createEmitter () {
  const listeners = new Set<ExecutorListener>()
  return {
    emit (event: ExecutorEvent) {
      for (const listener of listeners) listener(event)
    },
    on (listener: ExecutorListener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    }
  }
}

export function isAbortError (error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError'
}
