import { performance } from 'node:perf_hooks'
import type { Executor, TaskSignal } from '../executor/executor.js'
import { chooseChunks, splitRange, type ChunkPolicy, type Range } from './split-range.js'
import { sumOfSquares } from './sum-of-squares.js'

/**
 * A chunk of 4M terms is about 1.2 ms of kernel time here, against tens of microseconds to hand a
 * task to a worker and back: below that, splitting costs more than the parallelism returns.
 */
export const MIN_TERMS_PER_CHUNK = 4_000_000

/**
 * Default for INLINE_MAX_TERMS. A pool round trip costs 15-25 µs here (`npm run bench -- pool`);
 * 20,000 terms cost about 6 µs once V8 has optimised the kernel, so running them on the event loop
 * is cheaper than offloading them, and still about 0.6 ms in the rare call before optimisation
 * (about 30 ns/term in the interpreter): a bounded blip, well under the probe's budget.
 */
export const INLINE_MAX_TERMS = 20_000

export interface SumOfSquaresPolicy extends ChunkPolicy {
  /** Ranges of at most this many terms, with no chunk count asked for, run on the event loop; 0 never. */
  inlineMaxTerms: number
}

export interface SumOfSquaresJob extends Range {
  chunks?: number
}

export interface SumOfSquaresResult {
  sum: bigint
  chunks: number
  /** Kernel time summed over chunks: CPU time spent on the math itself. */
  kernelMs: number
}

/** Whether a job is too small to be worth a hand-off to a worker. An explicit chunk count always goes to the executor. */
export function runsInline (job: SumOfSquaresJob, policy: SumOfSquaresPolicy): boolean {
  return job.chunks === undefined && policy.inlineMaxTerms > 0 && job.end - job.start <= policy.inlineMaxTerms
}

/**
 * Splits the range, runs the chunks on the executor and adds their partial sums exactly; a range
 * smaller than the cost of offloading it is summed right here instead.
 */
export async function runSumOfSquares (
  executor: Executor,
  policy: SumOfSquaresPolicy,
  job: SumOfSquaresJob,
  options: { signal?: TaskSignal } = {}
): Promise<SumOfSquaresResult> {
  if (runsInline(job, policy)) {
    options.signal?.throwIfAborted()
    const started = performance.now()
    const sum = sumOfSquares(job.start, job.end)
    return { sum, chunks: 1, kernelMs: performance.now() - started }
  }
  const chunks = chooseChunks(job.end - job.start, policy, job.chunks)
  const outcomes = await executor.executeAll('sum-of-squares', splitRange(job, chunks), options)
  let sum = 0n
  let kernelMs = 0
  for (const outcome of outcomes) {
    sum += outcome.value
    kernelMs += outcome.kernelMs
  }
  return { sum, chunks, kernelMs }
}
