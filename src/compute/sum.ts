import { everyNegativeZero, firstNonFinite } from './float64-bins.js'
import { addExactValues } from './float64-bins-wasm.js'
import { mergeFloat64Partials, type Float64Chunk, type Float64Partial, type Float64Result } from './float64-partials.js'
import type { Mode } from './modes.js'
import { createSuperaccumulator, isExactZero, roundSuperaccumulator } from './superaccumulator.js'

/** Fewest values worth a chunk of their own: below 2^19 (under 1 ms exact) the hand-off costs more than a thread gains. */
export const MIN_VALUES_PER_CHUNK = 2 ** 19

/** Values one thread adds per millisecond, roughly, by mode (measured 100-250 thousand exact, 350-550 thousand fast): the work's estimated cost. */
export const VALUES_PER_MS: Record<Mode, number> = { exact: 250_000, fast: 500_000 }

/** One chunk of a sum: values [start, end) of the buffer; a partial's indexes are into the buffer. */
export type SumChunk = Float64Chunk

export type SumResult = Float64Result<'sum'>

/** A chunk's partial result; runs in a worker thread (or inline). */
export function sumChunk ({ buffer, start, end, mode }: SumChunk): Float64Partial {
  const values = new Float64Array(buffer, start * 8, end - start)
  if (mode === 'fast') {
    const sum = naiveSum(values)
    // Only a non-finite chunk sum is worth a second look for a non-finite value.
    const at = Number.isFinite(sum) ? -1 : firstNonFinite(values)
    return { mode, value: sum, firstNonFinite: at < 0 ? -1 : start + at }
  }
  const state = createSuperaccumulator()
  if (addExactValues(state, values)) return { mode, state, firstNonFinite: start + firstNonFinite(values), everyNegativeZero: false }
  // Only an exact zero sum can come from values that are all -0.
  return { mode, state, firstNonFinite: -1, everyNegativeZero: isExactZero(state) && everyNegativeZero(values) }
}

/** Combines the chunks' partials, in chunk order (src/compute/float64-partials.ts). */
export function mergeSumPartials (partials: Float64Partial[]): SumResult {
  return mergeFloat64Partials('sum', partials)
}

/** What Math.sumPrecise returns for values containing a NaN or an infinity. */
function nonFiniteSum (values: Float64Array): number {
  let positive = false
  let negative = false
  for (const value of values) {
    if (Number.isNaN(value)) return NaN
    if (value === Infinity) positive = true
    else if (value === -Infinity) negative = true
  }
  if (positive && negative) return NaN
  return positive ? Infinity : -Infinity
}

/**
 * The exact sum of `values`, rounded once to the nearest double (ties to even), with the semantics
 * of ECMAScript's Math.sumPrecise: ±Infinity when the result overflows (never because a partial sum
 * did), NaN for a NaN or for both infinities, -0 when every value is -0 (or there are none).
 * Python's math.fsum agrees on every finite result except the sign of a zero: it returns +0.
 */
export function sumPrecise (values: Float64Array): number {
  const acc = createSuperaccumulator()
  if (addExactValues(acc, values)) return nonFiniteSum(values)
  if (isExactZero(acc)) return everyNegativeZero(values) ? -0 : 0
  return roundSuperaccumulator(acc)
}

/** The plain float64 loop: each addition rounds, so the result depends on order and can overflow early. */
export function naiveSum (values: Float64Array): number {
  let sum = 0
  for (let i = 0; i < values.length; i++) sum += values[i]!
  return sum
}
