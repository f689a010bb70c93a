import { splitRange } from '../compute/split-range.js'
import type { ExecuteOptions, Executor, TaskInput, TaskName, TaskValue } from './executor.js'

export interface OffloadPlan<N extends TaskName, R> {
  task: N
  /** Units of work (terms, values) that chunks are sized by. */
  size: number
  /** Fewest units worth a chunk of their own: below it the hand-off costs more than a thread gains. */
  minChunkSize: number
  /** Units one thread gets through per millisecond (an estimate): what the work counts for in the queue. */
  unitsPerMs: number
  /** A client's explicit chunk count, which wins over the executor's choice. */
  chunks?: number | undefined
  /** Work of at most this many units, with no chunk count asked for, runs on the event loop. */
  inlineMaxSize?: number
  /** The inputs of `parts` chunks, in order. */
  split(parts: number): Array<TaskInput<N>>
  /** Combines the chunks' values, given in chunk order. */
  merge(values: Array<TaskValue<N>>): R
}

export interface Offloaded<R> {
  value: R
  /** Chunks the work was split into: 0 for no work, 1 for work done inline. */
  chunks: number
  /** Kernel time summed over chunks: CPU time spent on the math itself. */
  kernelMs: number
}

/** Whose work it is and when to give up on it: the compute scope's `computeClient`, `computeSignal` and `computeDeadline`. */
export type OffloadContext = Pick<ExecuteOptions, 'signal' | 'client' | 'deadline'>

/**
 * Split, run, merge: the one way every compute route hands work to the executor. The executor
 * chooses the chunk count (it knows its threads); work smaller than a hand-off runs right here,
 * and so is never refused for a full queue.
 */
export async function offload<N extends TaskName, R> (executor: Executor, { signal, client, deadline }: OffloadContext, plan: OffloadPlan<N, R>): Promise<Offloaded<R>> {
  if (plan.size === 0 && plan.chunks === undefined) return { value: plan.merge([]), chunks: 0, kernelMs: 0 }
  if (plan.chunks === undefined && plan.size <= (plan.inlineMaxSize ?? 0)) {
    const [input] = plan.split(1)
    const outcome = executor.runInline(plan.task, input!, { signal })
    return { value: plan.merge([outcome.value]), chunks: 1, kernelMs: outcome.kernelMs }
  }
  const chunks = executor.chunksFor(plan.size, plan.minChunkSize, plan.chunks)
  const costMs = plan.size / chunks / plan.unitsPerMs
  // The units each chunk holds, as splitRange cuts them (every route's split does), for the tasks' events.
  const sizes = chunks === 1 ? [plan.size] : splitRange({ start: 0, end: plan.size }, chunks).map((range) => range.end - range.start)
  const outcomes = await executor.executeAll(plan.task, plan.split(chunks), { signal, client, costMs, sizes, deadline })
  let kernelMs = 0
  for (const outcome of outcomes) kernelMs += outcome.kernelMs
  return { value: plan.merge(outcomes.map((outcome) => outcome.value)), chunks, kernelMs }
}
