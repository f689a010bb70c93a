// AssemblyScript, compiled twice by `npm run build`: dist/assembly/exact-dot.wasm (SIMD) and
// dist/assembly/exact-dot-fma.wasm (SIMD and relaxed SIMD, whose fused multiply-add gives the product's
// error in one operation). The hot loop of src/compute/dot-wasm.ts: the JavaScript kernel's algorithm
// (src/compute/dot.ts, docs/dot-product.md), two pairs at a time in f64x2 lanes. Each factor is scaled
// to [0, 2), the two-product gives hi + lo exactly, and hi + lo is cut on fixed grids into three
// integers, which are added, as i64, to bins by exponent sum; a flush moves the bins into a
// superaccumulator's digits.

import { addShiftedTo } from './shifted-add'

// The exact sum's loop and bins in this instance too, so that /v1/stats copies each block of values
// once, for both its sums (binValues, then binSquares, on the same block).
export { binValues, flush as flushValues, output as valuesOutput, DIGITS as VALUE_DIGITS } from './exact-sum'

const SUMS: i32 = 4096
/** A bin: (piece on the 2^-33 grid, piece on the 2^-69 grid) as i64x2, then the 2^-104 piece and padding. */
const BIN_BYTES: i32 = 32
/** Two sets: even pairs (lane 0) and odd pairs (lane 1), so pairs of one size do not wait on one bin. */
const SET_BYTES: i32 = SUMS * BIN_BYTES
/** Digits of the superaccumulator, units of 2^-2150: as DOT_CHUNKS in src/compute/dot.ts. */
export const DIGITS: i32 = 136
/** Pairs the caller may copy in at once (x and y, 128 KiB each), and room for one pair of zeros after them. */
export const BLOCK_PAIRS: i32 = 16384
/** Pairs between flushes: pieces below 2^36 each, so an i64 sum stays below 2^60. */
export const MAX_PAIRS_PER_FLUSH: i32 = 1 << 24

const bins = memory.data(2 * SET_BYTES, 16)
const digits = memory.data(DIGITS * 8, 16)
export const output = memory.data(DIGITS * 8, 16)
export const inputX = memory.data(BLOCK_PAIRS * 8 + 16, 16)
export const inputY = memory.data(BLOCK_PAIRS * 8 + 16, 16)
/** binSquares' least and greatest value so far: the caller sets them (Infinity, -Infinity) to start. */
export const extremes = memory.data(16, 16)

/**
 * The loop's constants, read from memory once per call: as literals the engine would rebuild each one
 * in every round (V8 does not hoist SIMD constants out of loops), which cost more than the arithmetic.
 */
const constants = memory.data<u64>([
  0x7ff0000000000000, 0x7ff0000000000000, // exponent field
  0x7fe0000000000000, 0x7fe0000000000000, // exponent field 2046
  0x41a0000002000000, 0x41a0000002000000, // Veltkamp's 2^27 + 1
  0x4128000000000000, 0x4128000000000000, // 1.5 * 2^19: ulp 2^-33
  0x3ee8000000000000, 0x3ee8000000000000, // 1.5 * 2^-17: ulp 2^-69
  0x3cb8000000000000, 0x3cb8000000000000, // 1.5 * 2^-52: ulp 2^-104
  0x7dd0000000000000, 0x7dd0000000000000 // the bits of 1.5 * 2^-17, twice
], 16)

/** The greatest exponent field seen since the last flush, in the high words: 0x7ff means a NaN or an infinity. */
let exponentMax = i32x4.splat(0)

/** A region for `count` pairs (x, then y), for the benchmarks that keep their values in this memory. */
export function allocate (count: i32): usize {
  const at = <usize>memory.size() << 16
  memory.grow(<i32>((<usize>count * 16 + 0xffff) >>> 16))
  return at
}

/**
 * The loops' bodies, inlined by asc (@inline: Node 20's V8 does not inline WebAssembly calls). Static
 * methods, because ESLint's TypeScript parser takes decorators only there.
 */
class Round {
  /**
   * lo, negated, of the two-product hi + lo = a * b (hi = a * b rounded): exact for the scaled factors,
   * whose product cannot overflow and whose error, a multiple of 2^-104, cannot underflow. With relaxed
   * SIMD, one multiply-add: exact only if the engine fuses it, which the loader checks (twoProductError).
   * Without, Dekker's two-product with Veltkamp's split, every operation negated (hi - a * b, not the reverse).
   */
  @inline static negatedError (a: v128, b: v128, hi: v128, split: v128): v128 {
    if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_nmadd(a, b, hi)
    const ca = f64x2.mul(split, a)
    const ah = f64x2.sub(ca, f64x2.sub(ca, a))
    const al = f64x2.sub(a, ah)
    const cb = f64x2.mul(split, b)
    const bh = f64x2.sub(cb, f64x2.sub(cb, b))
    const bl = f64x2.sub(b, bh)
    return f64x2.sub(f64x2.sub(f64x2.sub(f64x2.sub(hi, f64x2.mul(ah, bh)), f64x2.mul(ah, bl)), f64x2.mul(al, bh)), f64x2.mul(al, bl))
  }

  /**
   * Cuts hi + lo (lo given negated) on the grids of 2^-33, 2^-69 and 2^-104 into integers and adds them
   * to the bins at byte offsets `offsets` (high words): lane 0 to set 0, lane 1 to set 1.
   */
  @inline static binPieces (hi: v128, nlo: v128, offsets: v128, grid33: v128, grid69: v128, grid104: v128, twiceGrid69: v128): void {
    const t0 = f64x2.add(hi, grid33)
    const rest = f64x2.sub(hi, f64x2.sub(t0, grid33))
    const t1 = f64x2.add(rest, grid69)
    // grid69 - nlo is grid69 + lo, and nlo + lo69 is -(lo - lo69): the same roundings, the same exact differences.
    const t2 = f64x2.sub(grid69, nlo)
    const t3 = f64x2.add(f64x2.sub(f64x2.sub(rest, f64x2.sub(t1, grid69)), f64x2.add(nlo, f64x2.sub(t2, grid69))), grid104)
    const n0 = i64x2.sub(t0, grid33)
    const n1 = i64x2.sub(i64x2.add(t1, t2), twiceGrid69)
    const n2 = i64x2.sub(t3, grid104)
    const at0 = bins + <usize>i32x4.extract_lane(offsets, 1)
    const at1 = bins + SET_BYTES + <usize>i32x4.extract_lane(offsets, 3)
    v128.store(at0, i64x2.add(v128.load(at0), v128.shuffle<i64>(n0, n1, 0, 2)))
    v128.store(at1, i64x2.add(v128.load(at1), v128.shuffle<i64>(n0, n1, 1, 3)))
    store<i64>(at0, load<i64>(at0, 16) + i64x2.extract_lane(n2, 0), 16)
    store<i64>(at1, load<i64>(at1, 16) + i64x2.extract_lane(n2, 1), 16)
  }

  /** Squares the two values of v into the bins (offsets by twice the exponent); returns their exponent fields. */
  @inline static binSquarePair (v: v128, exponent: v128, field2046: v128, split: v128, grid33: v128, grid69: v128, grid104: v128, twiceGrid69: v128): v128 {
    const f = v128.and(v, exponent)
    const a = f64x2.mul(v, i64x2.sub(field2046, f))
    const hi = f64x2.mul(a, a)
    Round.binPieces(hi, Round.negatedError(a, a, hi, split), i32x4.shr_u(f, 14), grid33, grid69, grid104, twiceGrid69)
    return f
  }
}

/** What the loader checks before it trusts this build: the error of a * b as the loop computes it (lane 0). */
export function twoProductError (a: f64, b: f64): f64 {
  const va = f64x2.splat(a)
  const vb = f64x2.splat(b)
  const hi = f64x2.mul(va, vb)
  return -f64x2.extract_lane(Round.negatedError(va, vb, hi, v128.load(constants, 32)), 0)
}

/**
 * Adds the `count` pairs x[i] * y[i] (x at `x`, y at `y`, count even: the caller pads an odd one with
 * a pair of zeros) to the bins, two a round: pair 2k in lane 0 to set 0, pair 2k + 1 in lane 1 to set 1.
 */
export function binPairs (x: usize, y: usize, count: i32): void {
  const exponent = v128.load(constants)
  const field2046 = v128.load(constants, 16)
  const split = v128.load(constants, 32)
  // v + 1.5 * 2^k rounds v to the grid of its ulp, and its bits less the constant's are v on that grid as an integer.
  const grid33 = v128.load(constants, 48)
  const grid69 = v128.load(constants, 64)
  const grid104 = v128.load(constants, 80)
  const twiceGrid69 = v128.load(constants, 96)
  let seen = exponentMax
  for (let at: usize = 0, end = <usize>count << 3; at < end; at += 16) {
    const vx = v128.load(x + at)
    const vy = v128.load(y + at)
    const fx = v128.and(vx, exponent)
    const fy = v128.and(vy, exponent)
    seen = i32x4.max_u(seen, i32x4.max_u(fx, fy))
    // (ex + ey) << 20 in the high words; >> 15 makes it a byte offset of 32-byte bins.
    const offsets = i32x4.shr_u(i32x4.add(fx, fy), 15)
    // Each factor times 2^(1023 - e), exactly: into (-2, 2); a subnormal or zero (e = 0) times 2^1023,
    // to ±m * 2^-51 (the reference kernel scales it by 2^1022 into bin 1; the exact value is the same).
    // The scale's exponent field is 2046 - e, which is 0 for e = 2046: the caller redoes such input (flush).
    const a = f64x2.mul(vx, i64x2.sub(field2046, fx))
    const b = f64x2.mul(vy, i64x2.sub(field2046, fy))
    const hi = f64x2.mul(a, b)
    Round.binPieces(hi, Round.negatedError(a, b, hi, split), offsets, grid33, grid69, grid104, twiceGrid69)
  }
  exponentMax = seen
}

/**
 * Adds the squares of the `count` values at `x` to the bins, as binPairs(x, x, count) would, and folds
 * the values into `extremes` (least, greatest): the stats kernel's second pass, one scaling a value. An
 * odd count's last value is squared in lane 0 beside a zero. pmin and pmax are one instruction each
 * (min and max, which order -0 below 0 and propagate NaN, take about seven): a zero extreme may have
 * either sign, which the caller settles (values here are finite).
 */
export function binSquares (x: usize, count: i32): void {
  const exponent = v128.load(constants)
  const field2046 = v128.load(constants, 16)
  const split = v128.load(constants, 32)
  const grid33 = v128.load(constants, 48)
  const grid69 = v128.load(constants, 64)
  const grid104 = v128.load(constants, 80)
  const twiceGrid69 = v128.load(constants, 96)
  let least = v128.load64_splat(extremes)
  let greatest = v128.load64_splat(extremes, 8)
  let seen = exponentMax
  const end = <usize>(count >>> 1) << 4
  for (let at: usize = 0; at < end; at += 16) {
    const v = v128.load(x + at)
    least = f64x2.pmin(least, v)
    greatest = f64x2.pmax(greatest, v)
    seen = i32x4.max_u(seen, Round.binSquarePair(v, exponent, field2046, split, grid33, grid69, grid104, twiceGrid69))
  }
  if (count & 1) {
    const last = v128.load64_splat(x + end)
    least = f64x2.pmin(least, last)
    greatest = f64x2.pmax(greatest, last)
    seen = i32x4.max_u(seen, Round.binSquarePair(v128.load64_zero(x + end), exponent, field2046, split, grid33, grid69, grid104, twiceGrid69))
  }
  exponentMax = seen
  store<f64>(extremes, min(f64x2.extract_lane(least, 0), f64x2.extract_lane(least, 1)))
  store<f64>(extremes, max(f64x2.extract_lane(greatest, 0), f64x2.extract_lane(greatest, 1)), 8)
}

/** digits += value * 2^position, value a signed integer below 2^63 in magnitude: three 32-bit pieces. */
function addShifted (value: i64, position: i32): void {
  if (value === 0) return
  const negative = value < 0
  addShiftedTo(digits, <u64>(negative ? -value : value), position, negative)
}

/**
 * Moves every bin into the digits and empties it: the pieces of exponent sum e are integers at bit
 * e + 71, e + 35 and e in units of 2^-2150. Writes the digits to `output` (each below 2^48 in
 * magnitude, exact as a double; the caller propagates the carries). Returns 1 if a NaN or an
 * infinity was binned since the last flush, 2 if a factor of exponent field 2046 (2^1023 or more)
 * was, which this loop cannot scale: either way the digits are meaningless.
 */
export function flush (): i32 {
  memory.fill(digits, 0, DIGITS * 8)
  for (let e = 0; e < SUMS; e++) {
    const at = bins + <usize>e * BIN_BYTES
    const pieces = i64x2.add(v128.load(at), v128.load(at, SET_BYTES))
    const low = load<i64>(at, 16) + load<i64>(at, SET_BYTES + 16)
    if (!v128.any_true(pieces) && low === 0) continue
    const zero = i64x2.splat(0)
    v128.store(at, zero); v128.store(at, zero, 16); v128.store(at, zero, SET_BYTES); v128.store(at, zero, SET_BYTES + 16)
    addShifted(i64x2.extract_lane(pieces, 0), e + 71)
    addShifted(i64x2.extract_lane(pieces, 1), e + 35)
    addShifted(low, e)
  }
  for (let k = 0; k < DIGITS; k++) store<f64>(output + (<usize>k << 3), <f64>load<i64>(digits + (<usize>k << 3)))
  const seen = i32x4.max_u(exponentMax, v128.shuffle<i32>(exponentMax, exponentMax, 3, 3, 3, 3))
  exponentMax = i32x4.splat(0)
  const field = <u32>i32x4.extract_lane(seen, 1)
  return field === 0x7ff00000 ? 1 : field === 0x7fe00000 ? 2 : 0
}
