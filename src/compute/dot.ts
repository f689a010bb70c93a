import { addProductsWasm } from './dot-wasm.js'
import { mergeFloat64Partials, type Float64Chunk, type Float64Partial, type Float64Result } from './float64-partials.js'
import { requireLittleEndian } from './little-endian.js'
import type { Mode } from './modes.js'
import {
  addScaled,
  createSuperaccumulator,
  isExactZero,
  propagateCarries,
  roundSuperaccumulator,
  type Superaccumulator
} from './superaccumulator.js'

/**
 * The exact dot product: every product x*y split without error into two doubles (Veltkamp/Dekker
 * two-product), added exactly, and rounded once (docs/dot-product.md).
 *
 * A product of doubles spans 2^-2148 to 2^2048, beyond any double, so the factors are first scaled
 * by powers of two: x = x' * 2^(ex - 1023), with ex the exponent field and x' in [1, 2) (in [0, 2) for
 * zeros and subnormals, ex = 0). Then x*y = x'y' * 2^(ex + ey - 2046), and the two-product of x'y'
 * can neither overflow nor underflow, for every finite input. hi + lo, a multiple of 2^-104 below 4,
 * is cut at fixed bit positions into three pieces of at most 36 bits; each piece is added to one of
 * three float64 sums kept for the exponent sum ex + ey, exact for PAIRS_PER_FLUSH pairs, after which
 * the sums are moved into a wide superaccumulator (units of 2^-2150).
 */

// The hot loop reads a double's high word at the odd index of a Uint32Array view.
requireLittleEndian('the exact dot product')

/** Fewest pairs worth a chunk of their own: below this the hand-off costs more than a thread gains. */
export const MIN_PAIRS_PER_CHUNK = 2 ** 17

/** Pairs one thread multiplies and adds per millisecond, roughly, by mode (docs/dot-product.md): the work's estimated cost. */
export const PAIRS_PER_MS: Record<Mode, number> = { exact: 100_000, fast: 400_000 }

/**
 * One chunk of a dot product: pairs [start, end) of a buffer holding x (its first n doubles) then y
 * (the next n); a partial's indexes are of pairs.
 */
export interface DotChunk extends Float64Chunk {
  n: number
}

export type DotResult = Float64Result<'dot'>

/** 2^(1023 - e) by exponent field e: x' = x * SCALE[e] is exact. A NaN or an infinity passes through. */
const SCALE = Float64Array.from({ length: 2048 }, (_, e) => e === 0x7ff ? 1 : 2 ** (1023 - e))
const SPLIT = 2 ** 27 + 1
/** (v + GRID) - GRID rounds v to a multiple of 2^-33 (of 2^-69): the ulp of GRID. */
const GRID_33 = 1.5 * 2 ** 19
const GRID_69 = 1.5 * 2 ** -17
/** Each of the three sums receives at most 2^35 units a pair, so 2^17 pairs stay below 2^53. */
export const PAIRS_PER_FLUSH = 2 ** 17
/** Units of 2^-2150: the pieces of x'y' are multiples of 2^-104, and ex + ey - 2046 >= -2046. */
export const PRODUCT_UNIT_EXPONENT = -2150
/** 4352 bits: products below 2^2048 in units of 2^-2150 take 4198, leaving room for any body's 2^24 pairs and lazy carries. */
export const DOT_LIMBS = 136

/**
 * The three sums per exponent sum, twice: even pairs use slots 0-2, odd pairs 4-6, so consecutive
 * pairs of one magnitude do not wait on each other's additions. Eight slots fill one cache line.
 */
const SLOTS = 8
const sums = new Float64Array(4096 * SLOTS)

/**
 * Adds hi + lo (an exact product of scaled factors, below 4) to the three sums at `at`, cut into
 * pieces on grids of 2^-33, 2^-69 and 2^-104: every subtraction below is exact.
 */
function binPieces (hi: number, lo: number, at: number): void {
  const hi33 = (hi + GRID_33) - GRID_33
  const rest = hi - hi33
  const hi69 = (rest + GRID_69) - GRID_69
  const lo69 = (lo + GRID_69) - GRID_69
  sums[at]! += hi33
  sums[at + 1]! += hi69 + lo69
  sums[at + 2]! += (rest - hi69) + (lo - lo69)
}

/**
 * Adds pair i (x = values[i], y = values[j]) to the sums. `words` views the same memory: a
 * double's high word, with its exponent field, is at odd index 2k + 1.
 */
function binProduct (values: Float64Array, words: Uint32Array, i: number, j: number, slot: number): void {
  const ex = (words[(i << 1) | 1]! >>> 20) & 0x7ff
  const ey = (words[(j << 1) | 1]! >>> 20) & 0x7ff
  const a = values[i]! * SCALE[ex]!
  const b = values[j]! * SCALE[ey]!
  // Dekker's two-product: hi + lo = a * b exactly.
  const hi = a * b
  const ca = SPLIT * a
  const ah = ca - (ca - a)
  const al = a - ah
  const cb = SPLIT * b
  const bh = cb - (cb - b)
  const bl = b - bh
  binPieces(hi, ((ah * bh - hi) + ah * bl + al * bh) + al * bl, ((ex + ey) << 3) | slot)
}

/** binProduct with y = x: one scaling and one split (Dekker's square, QD's two_sqr), exponent sum 2ex. */
function binSquare (values: Float64Array, words: Uint32Array, i: number, slot: number): void {
  const ex = (words[(i << 1) | 1]! >>> 20) & 0x7ff
  const a = values[i]! * SCALE[ex]!
  const hi = a * a
  const ca = SPLIT * a
  const ah = ca - (ca - a)
  const al = a - ah
  binPieces(hi, ((ah * ah - hi) + 2 * ah * al) + al * al, (ex << 4) | slot)
}

/** No branch but the loop's: the odd pair out goes through the same function. */
function binProducts (values: Float64Array, words: Uint32Array, n: number, from: number, to: number): void {
  let i = from
  for (; i + 1 < to; i += 2) {
    binProduct(values, words, i, n + i, 0)
    binProduct(values, words, i + 1, n + i + 1, 4)
  }
  if (i < to) binProduct(values, words, i, n + i, 0)
}

/**
 * Squares of values [from, to), and their least and greatest into extremes[0] and [1] (by Math.min
 * and Math.max, so -0 counts below 0): read here anyway, they would cost the stats kernel a pass.
 */
function binSquares (values: Float64Array, words: Uint32Array, from: number, to: number, extremes: Float64Array): void {
  let min0 = extremes[0]!
  let max0 = extremes[1]!
  let min1 = min0
  let max1 = max0
  let i = from
  for (; i + 1 < to; i += 2) {
    binSquare(values, words, i, 0)
    binSquare(values, words, i + 1, 4)
    min0 = Math.min(min0, values[i]!)
    max0 = Math.max(max0, values[i]!)
    min1 = Math.min(min1, values[i + 1]!)
    max1 = Math.max(max1, values[i + 1]!)
  }
  if (i < to) {
    binSquare(values, words, i, 0)
    min0 = Math.min(min0, values[i]!)
    max0 = Math.max(max0, values[i]!)
  }
  extremes[0] = Math.min(min0, min1)
  extremes[1] = Math.max(max0, max1)
}

/**
 * Moves every sum into `acc` and empties it. The sums of exponent sum e hold multiples of 2^-33,
 * 2^-69 and 2^-104 at scale 2^(e - 2046): in units of 2^-2150, integers at bit e + 71, e + 35 and e.
 * Returns whether a NaN or an infinity reached a sum; those are dropped, and the caller looks again.
 */
function flushSums (acc: Superaccumulator): boolean {
  let nonFinite = false
  for (let at = 0; at < sums.length; at += SLOTS) {
    const s0 = sums[at]!
    const s1 = sums[at + 1]!
    const s2 = sums[at + 2]!
    const s4 = sums[at + 4]!
    const s5 = sums[at + 5]!
    const s6 = sums[at + 6]!
    if (s0 === 0 && s1 === 0 && s2 === 0 && s4 === 0 && s5 === 0 && s6 === 0) continue
    sums[at] = 0; sums[at + 1] = 0; sums[at + 2] = 0; sums[at + 4] = 0; sums[at + 5] = 0; sums[at + 6] = 0
    const high = s0 + s4
    const middle = s1 + s5
    const low = s2 + s6
    if (!Number.isFinite(high + middle + low)) {
      nonFinite = true
      continue
    }
    const e = at / SLOTS
    addScaled(acc, Math.abs(high) * 2 ** 33, e + 71, high < 0)
    addScaled(acc, Math.abs(middle) * 2 ** 69, e + 35, middle < 0)
    addScaled(acc, Math.abs(low) * 2 ** 104, e, low < 0)
  }
  propagateCarries(acc)
  return nonFinite
}

/**
 * Bins pairs [from, to) in blocks of PAIRS_PER_FLUSH, flushing each into `acc`, squares when given
 * `extremes`; true if some value was not finite. Two direct calls keep each call site monomorphic.
 */
function addBinned (acc: Superaccumulator, values: Float64Array, n: number, start: number, end: number, extremes: Float64Array | null): boolean {
  // A Float64Array's byteOffset is a multiple of 8, so this view is always aligned.
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2)
  let nonFinite = false
  for (let from = start; from < end; from += PAIRS_PER_FLUSH) {
    const to = Math.min(end, from + PAIRS_PER_FLUSH)
    if (extremes !== null) binSquares(values, words, from, to, extremes)
    else binProducts(values, words, n, from, to)
    if (flushSums(acc)) nonFinite = true
  }
  return nonFinite
}

/**
 * Adds x[i] * y[i] for i in [start, end) to `acc` (of DOT_LIMBS limbs), exactly, where x is
 * values[0, n) and y is values[n, 2n). Returns true if some x[i] or y[i] was NaN or infinite: `acc`
 * is then meaningless, and `firstNonFinitePair` finds the culprit.
 */
export function addProducts (acc: Superaccumulator, values: Float64Array, n: number, start: number, end: number): boolean {
  return addBinned(acc, values, n, start, end, null)
}

/**
 * Adds x[i] * x[i] for i in [start, end) to `acc` (of DOT_LIMBS limbs), exactly: the dot product of
 * values with themselves, through the same sums, one split a value. Folds the values into
 * extremes[0] (Math.min) and extremes[1] (Math.max) on the way. True if some value is not finite.
 */
export function addSquares (acc: Superaccumulator, values: Float64Array, start: number, end: number, extremes: Float64Array): boolean {
  return addBinned(acc, values, 0, start, end, extremes)
}

/**
 * addProducts by the WebAssembly kernel (src/compute/dot-wasm.ts; 1.0-1.7x faster, copy included, in
 * docs/performance-vs-xsum.md) where it runs and takes the chunk; by the JavaScript one above, its
 * reference in the tests, where not.
 */
function addExactProducts (acc: Superaccumulator, values: Float64Array, n: number, start: number, end: number): boolean {
  return addProductsWasm?.(acc, values, n, start, end) ?? addProducts(acc, values, n, start, end)
}

/** Index of the first pair in [start, end) with a NaN or an infinity in x (looked at first) or y, or -1. */
export function firstNonFinitePair (values: Float64Array, n: number, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    if (!Number.isFinite(values[i]!) || !Number.isFinite(values[n + i]!)) return i
  }
  return -1
}

/** Whether every product is an exact zero of negative sign, as 0 * -1 is: the one case of a -0 result. */
function everyProductNegativeZero (values: Float64Array, n: number, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const x = values[i]!
    const y = values[n + i]!
    if (!((x === 0 || y === 0) && Object.is(x * y, -0))) return false
  }
  return end > start
}

/** The plain float64 loop: each product and each addition rounds; a product beyond 2^1024 is Infinity. */
export function naiveDot (values: Float64Array, n: number, start: number, end: number): number {
  let dot = 0
  for (let i = start; i < end; i++) dot += values[i]! * values[n + i]!
  return dot
}

/** A chunk's partial result; runs in a worker thread (or inline). */
export function dotChunk ({ buffer, n, start, end, mode }: DotChunk): Float64Partial {
  const values = new Float64Array(buffer, 0, 2 * n)
  if (mode === 'fast') {
    const dot = naiveDot(values, n, start, end)
    // Only a non-finite chunk result is worth a second look for a non-finite input.
    return { mode, value: dot, firstNonFinite: Number.isFinite(dot) ? -1 : firstNonFinitePair(values, n, start, end) }
  }
  const state = createSuperaccumulator(DOT_LIMBS)
  if (addExactProducts(state, values, n, start, end)) return { mode, state, firstNonFinite: firstNonFinitePair(values, n, start, end), everyNegativeZero: false }
  // Only an exact zero can come from products that are all -0.
  return { mode, state, firstNonFinite: -1, everyNegativeZero: isExactZero(state) && everyProductNegativeZero(values, n, start, end) }
}

/** Combines the chunks' partials, in chunk order (src/compute/float64-partials.ts), in this wider superaccumulator. */
export function mergeDotPartials (partials: Float64Partial[]): DotResult {
  return mergeFloat64Partials('dot', partials, { limbs: DOT_LIMBS, unitExponent: PRODUCT_UNIT_EXPONENT })
}

/** What Math.sumPrecise of the products gives once one is not finite: NaN for a NaN or both infinities. */
function nonFiniteDot (values: Float64Array, n: number): number {
  let positive = false
  let negative = false
  for (let i = 0; i < n; i++) {
    if (Number.isFinite(values[i]!) && Number.isFinite(values[n + i]!)) continue
    const product = values[i]! * values[n + i]!
    if (Number.isNaN(product)) return NaN
    if (product > 0) positive = true
    else negative = true
  }
  if (positive && negative) return NaN
  return positive ? Infinity : -Infinity
}

/**
 * The exact dot product of x and y (equal lengths), rounded once to the nearest double, ties to
 * even: Math.sumPrecise of the exact products. ±Infinity when that overflows (never because a product
 * did), -0 only when every product is -0, and 0 for empty vectors (Math.sumPrecise([]) is -0;
 * Python's math.sumprod gives 0). A NaN or an infinity in x or y gives what Math.sumPrecise gives
 * for the float64 products. Copies x and y into one buffer, the layout the chunks read.
 */
export function dotPrecise (x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length
  const values = new Float64Array(2 * n)
  values.set(x)
  values.set(y, n)
  const acc = createSuperaccumulator(DOT_LIMBS)
  if (addExactProducts(acc, values, n, 0, n)) return nonFiniteDot(values, n)
  if (isExactZero(acc)) return everyProductNegativeZero(values, n, 0, n) ? -0 : 0
  return roundSuperaccumulator(acc, PRODUCT_UNIT_EXPONENT)
}
