import { performance } from 'node:perf_hooks'
import { tasks } from './tasks.js'

/**
 * The Piscina entry point, and what the executor calls on the event loop for inline work, so both
 * run exactly the same code. Its message and outcome are the executor's TaskMessage and TaskOutcome.
 */
export default function runTask ({ task, input }: { task: string, input: unknown }): { value: unknown, kernelMs: number } {
  const fn = (tasks as Record<string, ((input: unknown) => unknown) | undefined>)[task]
  if (fn === undefined) throw new Error(`unknown task "${task}"`)
  const started = performance.now()
  const value = fn(input)
  return { value, kernelMs: performance.now() - started }
}
