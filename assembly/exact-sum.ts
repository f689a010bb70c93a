// AssemblyScript, compiled to dist/assembly/exact-sum.wasm by `npm run build` (asc, SIMD on).
// The hot loop of src/compute/float64-bins-wasm.ts: Neal's large superaccumulator (arXiv:1505.05571,
// section 4), written here from the paper. Each value's 53-bit mantissa goes, as two integer lanes
// (low 32 bits, high 21 bits), into the bin its sign and exponent (the top 12 bits) choose; the bins
// are flushed into a small superaccumulator of 32-bit digits once per call.

import { addShiftedTo } from './shifted-add'

const BINS: i32 = 4096
/**
 * Four sets of bins take values in turn, so that runs of equal exponents (unit data) do not wait on one
 * bin; eight were faster on unit data but slower on wide, whose 400 bins then no longer fit in L1.
 */
const SETS: i32 = 4
const SET_BYTES: i32 = BINS * 16
/** Digits of the small superaccumulator: as SUPERACCUMULATOR_CHUNKS in src/compute/superaccumulator.ts. */
export const DIGITS: i32 = 68
/** Values the caller may copy into `input` at once: 256 KiB, so a copied block is still in L2 when binned. */
export const BLOCK_VALUES: i32 = 32768
/** Values between flushes: the low lanes (each below 2^32) may then sum to 2^63 at most in one bin. */
export const MAX_VALUES_PER_FLUSH: i32 = 1 << 30

// Bin b of set s: an i64x2 (sum of low words, sum of high words with the implicit bit) at bins + s * SET_BYTES + b * 16.
const bins = memory.data(SETS * SET_BYTES, 16)
const digits = memory.data(DIGITS * 8, 16)
/** The flushed digits, as float64, for the caller to add. */
export const output = memory.data(DIGITS * 8, 16)
export const input = memory.data(BLOCK_VALUES * 8, 16)

/** A region for `count` values, for callers (the benchmarks) that keep their values in this memory. */
export function allocate (count: i32): usize {
  const at = <usize>memory.size() << 16
  memory.grow(<i32>((<usize>count * 8 + 0xffff) >>> 16))
  return at
}

/**
 * The two lanes of two doubles (in the low and high halves of v): mantissa words, with the implicit
 * bit of normal numbers (exponent field not 0, so min_u(field, 1) is 1) set at bit 20 of the high word.
 */
function mantissas (v: v128): v128 {
  const exponents = v128.and(v, i32x4(0, 0x7ff00000, 0, 0x7ff00000))
  const implicit = i32x4.shl(i32x4.min_u(exponents, i32x4.splat(1)), 20)
  return v128.or(v128.and(v, i32x4(-1, 0xfffff, -1, 0xfffff)), implicit)
}

/** The bin of the double at `at` as a byte offset into a set: its top 12 bits, read with the 4 below and masked. */
function binOf (at: usize): usize {
  return <usize>load<u16>(at, 6) & 0xfff0
}

/** The first double's lanes as two u64; the second's (an interleave with zero, one instruction on x64). */
function first (m: v128): v128 { return i64x2.extend_low_i32x4_u(m) }
function second (m: v128): v128 { return v128.shuffle<i32>(m, i32x4.splat(0), 2, 6, 3, 7) }

/**
 * Adds `count` doubles at `from` to the bins, value i to set i % 4. Eight a round; each set's offset is
 * a constant in the load and store, so the engine folds it into the address (about 10 instructions a value).
 */
export function binValues (from: usize, count: i32): void {
  const end = from + (<usize>(count & ~7) << 3)
  for (let at = from; at < end; at += 64) {
    const m0 = mantissas(v128.load(at))
    const m1 = mantissas(v128.load(at, 16))
    const m2 = mantissas(v128.load(at, 32))
    const m3 = mantissas(v128.load(at, 48))
    const b0 = binOf(at)
    const b1 = binOf(at + 8)
    const b2 = binOf(at + 16)
    const b3 = binOf(at + 24)
    const b4 = binOf(at + 32)
    const b5 = binOf(at + 40)
    const b6 = binOf(at + 48)
    const b7 = binOf(at + 56)
    v128.store(b0, i64x2.add(v128.load(b0, bins), first(m0)), bins)
    v128.store(b1, i64x2.add(v128.load(b1, bins + SET_BYTES), second(m0)), bins + SET_BYTES)
    v128.store(b2, i64x2.add(v128.load(b2, bins + 2 * SET_BYTES), first(m1)), bins + 2 * SET_BYTES)
    v128.store(b3, i64x2.add(v128.load(b3, bins + 3 * SET_BYTES), second(m1)), bins + 3 * SET_BYTES)
    v128.store(b4, i64x2.add(v128.load(b4, bins), first(m2)), bins)
    v128.store(b5, i64x2.add(v128.load(b5, bins + SET_BYTES), second(m2)), bins + SET_BYTES)
    v128.store(b6, i64x2.add(v128.load(b6, bins + 2 * SET_BYTES), first(m3)), bins + 2 * SET_BYTES)
    v128.store(b7, i64x2.add(v128.load(b7, bins + 3 * SET_BYTES), second(m3)), bins + 3 * SET_BYTES)
  }
  // The last count % 8 values, one at a time into set 0.
  for (let at = end; at < from + (<usize>count << 3); at += 8) {
    const b = binOf(at)
    v128.store(b, i64x2.add(v128.load(b, bins), first(mantissas(v128.load64_zero(at)))), bins)
  }
}

/** digits += magnitude * 2^position (or -=), magnitude below 2^64: three 32-bit pieces. */
function addShifted (magnitude: u64, position: i32, negative: bool): void {
  addShiftedTo(digits, magnitude, position, negative)
}

/**
 * Moves every bin into the digits (a bin of exponent e holds mantissas in units of 2^(max(e, 1) - 1075),
 * that is shifted up by max(e, 1) - 1 from 2^-1074), empties the bins, and writes the digits to
 * `output`. Returns 1 if a NaN or an infinity (exponent 0x7ff) was binned: those are left out, for
 * the caller to find.
 */
export function flush (): i32 {
  memory.fill(digits, 0, DIGITS * 8)
  let nonFinite = 0
  for (let bin = 0; bin < BINS; bin++) {
    const at = bins + (<usize>bin << 4)
    const lanes = i64x2.add(
      i64x2.add(v128.load(at), v128.load(at, SET_BYTES)),
      i64x2.add(v128.load(at, 2 * SET_BYTES), v128.load(at, 3 * SET_BYTES)))
    if (!v128.any_true(lanes)) continue
    const zero = i64x2.splat(0)
    v128.store(at, zero); v128.store(at, zero, SET_BYTES); v128.store(at, zero, 2 * SET_BYTES); v128.store(at, zero, 3 * SET_BYTES)
    const exponent = bin & 0x7ff
    if (exponent === 0x7ff) {
      nonFinite = 1
      continue
    }
    const position = exponent === 0 ? 0 : exponent - 1
    addShifted(i64x2.extract_lane(lanes, 0), position, bin >= 0x800)
    addShifted(i64x2.extract_lane(lanes, 1), position + 32, bin >= 0x800)
  }
  // A digit got at most 3 pieces below 2^32 from each of 8192 lanes: below 2^47 in magnitude, so
  // exact as a double. The caller adds them to its own digits and propagates the carries there.
  for (let k = 0; k < DIGITS; k++) store<f64>(output + (<usize>k << 3), <f64>load<i64>(digits + (<usize>k << 3)))
  return nonFinite
}
