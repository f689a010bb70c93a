import { addSquares, DOT_LIMBS, PRODUCT_UNIT_EXPONENT } from './dot.js'
import { addSumsWasm } from './dot-wasm.js'
import { firstNonFinite } from './float64-bins.js'
import { addExactValues } from './float64-bins-wasm.js'
import { ratioToDouble, sqrtRatioToDouble } from './rational.js'
import {
  createSuperaccumulator,
  mergeSuperaccumulators,
  roundSuperaccumulator,
  toBigInt,
  type Superaccumulator
} from './superaccumulator.js'

/**
 * Count, sum, mean, variances, standard deviations, min and max of float64 values, each exactly what
 * Python 3.13's math.fsum, statistics module and min/max return. A chunk keeps two exact sums, of the
 * values (the sum's loop and superaccumulator) and of their squares (the dot product's sums, y = x),
 * in two loops back to back over the same values (in WebAssembly, over each block copied once), the
 * second also finding min and max: no mean-first second pass. Every statistic is then one rounding of
 * an exact rational, in BigInt (rational.ts).
 */

/** Fewest values worth a chunk of their own: as for the dot product, whose pairs cost about as much and whose partial is as small. */
export const MIN_VALUES_PER_CHUNK = 2 ** 17

/**
 * Values one thread takes per millisecond, roughly: the work's estimated cost. A value costs about
 * 1.25 times an exact dot product's pair (measured one thread, 10^6 values: 5.5 against 4.4 ns), so
 * this is PAIRS_PER_MS.exact / 1.25, on the same conservative scale.
 */
export const VALUES_PER_MS = 80_000

/** One chunk: values [start, end) of a buffer of float64 values, read in place (a SharedArrayBuffer from a request). */
export interface StatsChunk {
  buffer: ArrayBufferLike
  start: number
  end: number
}

/** A chunk's partial result: typed arrays and numbers, cheap to post between threads. */
export interface StatsPartial {
  count: number
  /** Exact sum of the values, in units of 2^-1074, carries propagated. */
  sum: Superaccumulator
  /** Exact sum of their squares, in units of 2^-2150 (DOT_LIMBS limbs), carries propagated. */
  sumOfSquares: Superaccumulator
  /** The first least and first greatest value (Python's min and max); ±Infinity for no values. */
  min: number
  max: number
  /** Index in the buffer of the chunk's first NaN or infinity, or -1. */
  firstNonFinite: number
}

/** Where Python raises OverflowError: the statistic rounds beyond the largest double. */
export type Overflow = 'overflow'

/**
 * Each statistic as Python 3.13 gives it. null where Python raises StatisticsError (too few values:
 * mean, pvariance and pstdev need one, variance and stdev two) or ValueError (min and max of none).
 * The mean and pstdev cannot overflow: |mean| <= max |x|, and pstdev <= (max - min) / 2.
 */
export interface Statistics {
  count: number
  sum: number | Overflow
  mean: number | null
  variance: number | null | Overflow
  stdev: number | null | Overflow
  pvariance: number | null | Overflow
  pstdev: number | null
  min: number | null
  max: number | null
}

export type StatisticName = keyof Statistics

export type StatsResult =
  | { kind: 'stats', stats: Statistics }
  /** `index` is into the buffer: the first NaN or infinity of the whole input. */
  | { kind: 'non-finite', index: number }

/**
 * Python's min and max keep the first of equal values. Equal doubles differ only as 0 and -0, so a
 * zero extreme, of whichever sign the squares' kernel found, becomes the first zero of either sign
 * (indexOf compares with ===).
 */
function firstOfEqual (values: Float64Array, extreme: number): number {
  return extreme === 0 ? values[values.indexOf(0)]! : extreme
}

/** A chunk's partial result; runs in a worker thread (or inline). */
export function statsChunk ({ buffer, start, end }: StatsChunk): StatsPartial {
  const values = new Float64Array(buffer, start * 8, end - start)
  const sum = createSuperaccumulator()
  const sumOfSquares = createSuperaccumulator(DOT_LIMBS)
  const extremes = Float64Array.of(Infinity, -Infinity)
  // Both sums in WebAssembly, one copy of the values (src/compute/dot-wasm.ts), else the JavaScript
  // squares, which find min and max in the same loop, after the exact sum.
  const verdict = addSumsWasm?.(sum, sumOfSquares, values, extremes) ?? (addExactValues(sum, values) ? 'non-finite' : 'sum-only')
  if (verdict === 'non-finite') {
    return { count: values.length, sum, sumOfSquares, min: Infinity, max: -Infinity, firstNonFinite: start + firstNonFinite(values) }
  }
  if (verdict === 'sum-only') addSquares(sumOfSquares, values, 0, values.length, extremes)
  return { count: values.length, sum, sumOfSquares, min: firstOfEqual(values, extremes[0]!), max: firstOfEqual(values, extremes[1]!), firstNonFinite: -1 }
}

const orOverflow = (value: number): number | Overflow => Number.isFinite(value) ? value : 'overflow'

/**
 * Every statistic from the exact sums: S = s * 2^-1074 and Q = q * 2^-2150, so S^2 = 4s^2 * 2^-2150
 * and the sum of squared deviations is Q - S^2/n = (nq - 4s^2) / n * 2^-2150, never negative.
 * Each is rounded once from its exact value; rounding S/n or ss first would round twice.
 */
function finish (count: number, sumState: Superaccumulator, squaresState: Superaccumulator, min: number, max: number): Statistics {
  // math.fsum: +0 for an exact zero, even of -0 values (Python 3.13).
  const sum = orOverflow(roundSuperaccumulator(sumState))
  if (count === 0) return { count, sum, mean: null, variance: null, stdev: null, pvariance: null, pstdev: null, min: null, max: null }
  const n = BigInt(count)
  const s = toBigInt(sumState)
  const deviations = n * toBigInt(squaresState) - 4n * s * s
  const unit = 1n << BigInt(-PRODUCT_UNIT_EXPONENT)
  const population = n * n * unit
  const sample = n * (n - 1n) * unit
  return {
    count,
    sum,
    mean: ratioToDouble(s, n << 1074n),
    variance: count < 2 ? null : orOverflow(ratioToDouble(deviations, sample)),
    stdev: count < 2 ? null : orOverflow(sqrtRatioToDouble(deviations, sample)),
    pvariance: orOverflow(ratioToDouble(deviations, population)),
    pstdev: sqrtRatioToDouble(deviations, population),
    min,
    max
  }
}

/**
 * Combines the chunks' partials, in chunk order: the exact sums are added exactly, the first NaN or
 * infinity wins by index, and min and max fold left to right so that the first of equals still wins.
 */
export function mergeStatsPartials (partials: StatsPartial[]): StatsResult {
  const nonFinite = partials.map((partial) => partial.firstNonFinite).filter((index) => index >= 0)
  if (nonFinite.length > 0) return { kind: 'non-finite', index: Math.min(...nonFinite) }

  let count = 0
  let min = Infinity
  let max = -Infinity
  const sum = createSuperaccumulator()
  const sumOfSquares = createSuperaccumulator(DOT_LIMBS)
  for (const partial of partials) {
    count += partial.count
    mergeSuperaccumulators(sum, partial.sum)
    mergeSuperaccumulators(sumOfSquares, partial.sumOfSquares)
    if (partial.min < min) min = partial.min
    if (partial.max > max) max = partial.max
  }
  return { kind: 'stats', stats: finish(count, sum, sumOfSquares, min, max) }
}

/** The statistics beyond the float64 range, for an answer that names them. */
export function overflowingStatistics (stats: Statistics): StatisticName[] {
  return (Object.keys(stats) as StatisticName[]).filter((name) => stats[name] === 'overflow')
}
