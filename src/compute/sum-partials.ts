import { addValues, everyNegativeZero, firstNonFinite, naiveSum } from './exact-sum.js'
import {
  createSuperaccumulator,
  isExactZero,
  mergeSuperaccumulators,
  roundSuperaccumulator,
  type Superaccumulator
} from './superaccumulator.js'

export type SumMode = 'exact' | 'fast'

/**
 * One chunk of a sum request: values [start, end) of a buffer of float64 values that starts at byte 0.
 * The buffer is a SharedArrayBuffer when it comes from a request, so every chunk reads the same memory
 * (see sum-job.ts); any ArrayBuffer works.
 */
export interface SumChunk {
  buffer: ArrayBufferLike
  start: number
  end: number
  mode: SumMode
}

export interface ExactPartial {
  mode: 'exact'
  /** The chunk's exact sum, carries propagated: 68 doubles, cheap to send back. */
  state: Superaccumulator
  /** Index in the buffer of the chunk's first NaN or infinity, or -1. */
  firstNonFinite: number
  /** Every value of the chunk is -0, so far as an exact zero total can tell. */
  everyNegativeZero: boolean
}

export interface FastPartial {
  mode: 'fast'
  sum: number
  firstNonFinite: number
}

export type SumPartial = ExactPartial | FastPartial

/** A chunk's partial result; runs in a worker thread (or inline). */
export function sumChunk ({ buffer, start, end, mode }: SumChunk): SumPartial {
  const values = new Float64Array(buffer, start * 8, end - start)
  if (mode === 'fast') {
    const sum = naiveSum(values)
    // A non-finite chunk sum means a non-finite value or an overflow; only then is it worth a second look.
    const at = Number.isFinite(sum) ? -1 : firstNonFinite(values)
    return { mode, sum, firstNonFinite: at < 0 ? -1 : start + at }
  }
  const state = createSuperaccumulator()
  if (addValues(state, values)) return { mode, state, firstNonFinite: start + firstNonFinite(values), everyNegativeZero: false }
  // A chunk whose exact sum is not zero has a value other than -0; only a zero sum needs the scan.
  return { mode, state, firstNonFinite: -1, everyNegativeZero: isExactZero(state) && everyNegativeZero(values) }
}

export type MergedSum =
  | { kind: 'sum', sum: number }
  /** `index` is into the buffer: the first NaN or infinity of the whole input. */
  | { kind: 'non-finite', index: number }
  | { kind: 'overflow' }

/**
 * Combines the chunks' partials, in chunk order. Exact partials are added exactly and rounded once:
 * rounding each chunk first would round twice and could miss the nearest double. Fast partials are
 * added as doubles, like the rest of the fast loop.
 */
export function mergePartials (partials: SumPartial[]): MergedSum {
  const nonFinite = partials.map((partial) => partial.firstNonFinite).filter((index) => index >= 0)
  if (nonFinite.length > 0) return { kind: 'non-finite', index: Math.min(...nonFinite) }

  let sum: number
  if (partials.every((partial) => partial.mode === 'fast')) {
    sum = partials.reduce((total, partial) => total + partial.sum, 0)
  } else {
    const total = createSuperaccumulator()
    for (const partial of partials as ExactPartial[]) mergeSuperaccumulators(total, partial.state)
    sum = roundSuperaccumulator(total)
    if (sum === 0 && partials.every((partial) => (partial as ExactPartial).everyNegativeZero)) sum = -0
  }
  return Number.isFinite(sum) ? { kind: 'sum', sum } : { kind: 'overflow' }
}
