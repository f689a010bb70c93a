import { requireLittleEndian } from './little-endian.js'
import { addScaled, propagateCarries, type Superaccumulator } from './superaccumulator.js'

/**
 * Neal's large superaccumulator (arXiv:1505.05571, section 4; `xsum_large` in xsum) in front of the
 * small one: the hot loop only adds each value's mantissa into a bin chosen by its sign and exponent
 * (the top 12 bits of the double), and the shifting into the small superaccumulator happens once per
 * bin per block of values. Each bin is two float64 sums of the mantissa's 32-bit words, so the block
 * size is 2^21 values: that many low words (< 2^32) still sum below 2^53, exactly.
 * Two sets of bins take alternate values, so consecutive additions rarely wait on the same bin.
 */

// The hot loop reads a double's low word at the even index of a Uint32Array view.
requireLittleEndian('exact summation')

const BINS = 4096
/** Values per block: 2^21 low words below 2^32 each sum below 2^53, exact in a double. */
export const BLOCK_VALUES = 2 ** 21

/** The implicit leading 1 of a normal double's mantissa, by bin; subnormals and zeros (exponent 0) have none. */
const IMPLICIT_BIT = Float64Array.from({ length: BINS }, (_, bin) => (bin & 0x7ff) === 0 ? 0 : 2 ** 20)

// Scratch bins, module-level so a call allocates nothing: all zero between calls.
const high0 = new Float64Array(BINS)
const low0 = new Float64Array(BINS)
const high1 = new Float64Array(BINS)
const low1 = new Float64Array(BINS)

/**
 * Adds pairs of doubles in words[from..to) (two words per double, `to - from` a multiple of 4) to the
 * two bin sets. Kept free of any rarely taken branch so that TurboFan compiles one tight loop; the odd
 * value of an odd-length block goes through `binOne` instead.
 */
function binPairs (words: Uint32Array, from: number, to: number): void {
  for (let i = from; i < to; i += 4) {
    const lowWord0 = words[i]!
    const highWord0 = words[i + 1]!
    const lowWord1 = words[i + 2]!
    const highWord1 = words[i + 3]!
    const bin0 = highWord0 >>> 20
    const bin1 = highWord1 >>> 20
    high0[bin0]! += (highWord0 & 0xfffff) + IMPLICIT_BIT[bin0]!
    low0[bin0]! += lowWord0
    high1[bin1]! += (highWord1 & 0xfffff) + IMPLICIT_BIT[bin1]!
    low1[bin1]! += lowWord1
  }
}

function binOne (words: Uint32Array, at: number): void {
  const highWord = words[at + 1]!
  const bin = highWord >>> 20
  high0[bin]! += (highWord & 0xfffff) + IMPLICIT_BIT[bin]!
  low0[bin]! += words[at]!
}

/**
 * Moves every bin into the small superaccumulator and empties it. A bin holds values of mantissa
 * m = high * 2^32 + low at scale 2^(e-1075) (2^-1074 for subnormals): in units of 2^-1074 that is m
 * shifted up by max(e, 1) - 1 bits. Returns whether a NaN or an infinity (exponent 0x7ff) was binned;
 * those are dropped here and left to the caller, which looks at the values again.
 */
function flushBins (acc: Superaccumulator): boolean {
  let nonFinite = false
  for (let bin = 0; bin < BINS; bin++) {
    const high = high0[bin]! + high1[bin]!
    const low = low0[bin]! + low1[bin]!
    if (high === 0 && low === 0) continue
    high0[bin] = 0; high1[bin] = 0; low0[bin] = 0; low1[bin] = 0
    const exponent = bin & 0x7ff
    if (exponent === 0x7ff) {
      nonFinite = true
      continue
    }
    const negative = bin >= 0x800
    const position = exponent === 0 ? 0 : exponent - 1
    addScaled(acc, low, position, negative)
    addScaled(acc, high, position + 32, negative)
  }
  propagateCarries(acc)
  return nonFinite
}

/**
 * Adds every finite value to `acc`, exactly. Returns true if some value was NaN or infinite: those are
 * left out of `acc`, and the caller decides what they mean (`firstNonFinite` finds them).
 */
export function addValues (acc: Superaccumulator, values: Float64Array): boolean {
  // A Float64Array's byteOffset is a multiple of 8, so this view is always aligned.
  const words = new Uint32Array(values.buffer, values.byteOffset, values.length * 2)
  let nonFinite = false
  for (let start = 0; start < values.length; start += BLOCK_VALUES) {
    const end = Math.min(values.length, start + BLOCK_VALUES)
    const pairedEnd = start + ((end - start) & ~1)
    binPairs(words, 2 * start, 2 * pairedEnd)
    if (pairedEnd < end) binOne(words, 2 * pairedEnd)
    if (flushBins(acc)) nonFinite = true
  }
  return nonFinite
}

/** Index of the first NaN or infinity, or -1. */
export function firstNonFinite (values: Float64Array): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return i
  }
  return -1
}

/** Whether every value is -0 (true for none): the one case where IEEE 754 makes an exact zero sum -0. */
export function everyNegativeZero (values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!Object.is(values[i], -0)) return false
  }
  return true
}
