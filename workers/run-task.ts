import { performance } from 'node:perf_hooks'
import { tasks, type TaskName } from './tasks.js'

export interface TaskMessage {
  task: TaskName
  input: unknown
}

export interface TaskOutcome<V = unknown> {
  value: V
  /** Time the task function itself ran, measured where it ran: the CPU work without hand-off or queueing. */
  kernelMs: number
}

/**
 * The Piscina entry point, and the function the inline executor calls on the event loop, so
 * both executors run exactly the same code.
 */
export default function runTask ({ task, input }: TaskMessage): TaskOutcome {
  const fn = tasks[task] as ((input: unknown) => unknown) | undefined
  if (fn === undefined) throw new Error(`unknown task "${task}"`)
  const started = performance.now()
  const value = fn(input)
  return { value, kernelMs: performance.now() - started }
}
