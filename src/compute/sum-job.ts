import { NonFiniteValueError, SumOverflowError } from '../errors.js'
import type { Executor, TaskSignal } from '../executor/executor.js'
import { chooseChunks, splitRange, type ChunkPolicy } from './split-range.js'
import { mergePartials, type SumMode } from './sum-partials.js'

/**
 * Fewest values worth a task of their own: 2^19 values (4 MiB) is under 1 ms of exact-mode kernel here,
 * against 0.1-0.2 ms to hand a task to a worker and back, so an input is split in two only from 2^20
 * values (8 MiB) up. `npm run bench -- split` measured one task against two: no gain at 4 MiB, 1.5x at
 * 8 MiB, 1.8x at 32 MiB.
 */
export const MIN_VALUES_PER_CHUNK = 2 ** 19

export interface SumResult {
  sum: number
  /** Tasks the values were split into; 0 for no values. */
  chunks: number
  /** Kernel time summed over chunks. */
  kernelMs: number
}

/**
 * Sums float64 values that live in a SharedArrayBuffer, spread over the pool.
 *
 * Every chunk task gets the same SharedArrayBuffer and its own index range: posting a
 * SharedArrayBuffer to a worker shares the memory instead of copying it, so however many threads read
 * the input, it exists once. Transferring (Piscina.move) would also avoid the copy, but an ArrayBuffer
 * can be moved to one thread only, so splitting it would need a copy per chunk; and a Buffer from
 * Node's 8 KiB pool must never be transferred, since that detaches the slab other Buffers live in.
 * The request's body is therefore read straight into memory of its own, shared from the start.
 * Nothing writes to it once the tasks are queued, so there is nothing to synchronise.
 */
export async function runSum (
  executor: Executor,
  policy: ChunkPolicy,
  values: Float64Array<SharedArrayBuffer>,
  mode: SumMode,
  options: { signal?: TaskSignal } = {}
): Promise<SumResult> {
  if (values.length === 0) return { sum: 0, chunks: 0, kernelMs: 0 }
  const first = values.byteOffset / 8
  const chunks = chooseChunks(values.length, policy)
  const inputs = splitRange({ start: first, end: first + values.length }, chunks)
    .map(({ start, end }) => ({ buffer: values.buffer, start, end, mode }))
  const outcomes = await executor.executeAll('sum-values', inputs, options)
  const kernelMs = outcomes.reduce((total, outcome) => total + outcome.kernelMs, 0)
  const merged = mergePartials(outcomes.map((outcome) => outcome.value))
  switch (merged.kind) {
    case 'non-finite':
      throw new NonFiniteValueError(merged.index - first, String(values[merged.index - first]))
    case 'overflow':
      throw new SumOverflowError(mode === 'exact'
        ? 'its exact value rounds beyond the largest double'
        : 'the float64 running sum reached Infinity (mode=exact fails only if the sum itself is out of range)')
    case 'sum':
      return { sum: merged.sum, chunks, kernelMs }
  }
}
