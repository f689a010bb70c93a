/**
 * Exact sums and dot products of doubles as BigInt rationals (every double is an integer number of
 * 2^-1074 units, so a product of two is an integer number of 2^-2148 units), rounded to the nearest
 * double by searching the doubles themselves: slow, independent of the kernels' code, obviously right.
 */

const view = new DataView(new ArrayBuffer(8))

function bitsOf (value: number): bigint {
  view.setFloat64(0, value)
  return view.getBigUint64(0)
}

function fromBits (bits: bigint): number {
  view.setBigUint64(0, bits)
  return view.getFloat64(0)
}

/** A finite double as an integer count of 2^-1074. */
export function toUnits (value: number): bigint {
  const bits = bitsOf(value)
  const exponent = (bits >> 52n) & 0x7ffn
  const fraction = bits & ((1n << 52n) - 1n)
  const magnitude = exponent === 0n ? fraction : (fraction | (1n << 52n)) << (exponent - 1n)
  return bits >> 63n === 1n ? -magnitude : magnitude
}

/** 2^1024 in units of 2^-1074: where a rounded result becomes Infinity, as if the exponent range went on. */
const OVERFLOW_UNITS = 1n << (1024n + 1074n)
const INFINITY_BITS = 0x7ff0000000000000n

/**
 * Nearest double to `units` * 2^-(1074 + finerBits), ties to the even bit pattern; ±Infinity past the
 * largest double, and -0 for a negative value that rounds to zero.
 */
export function roundUnits (units: bigint, finerBits = 0n): number {
  const negative = units < 0n
  const target = negative ? -units : units
  const scaled = (value: number) => toUnits(value) << finerBits
  // Largest non-negative bit pattern whose value is <= target: positive doubles sort like their bits.
  let low = 0n
  let high = INFINITY_BITS - 1n
  while (low < high) {
    const middle = (low + high + 1n) / 2n
    if (scaled(fromBits(middle)) <= target) low = middle
    else high = middle - 1n
  }
  const below = scaled(fromBits(low))
  const above = low + 1n === INFINITY_BITS ? OVERFLOW_UNITS << finerBits : scaled(fromBits(low + 1n))
  const down = target - below
  const up = above - target
  const pick = down < up || (down === up && (low & 1n) === 0n) ? low : low + 1n
  const result = fromBits(pick)
  return negative ? -result : result
}

export function referenceSum (values: Iterable<number>): number {
  let total = 0n
  for (const value of values) total += toUnits(value)
  return roundUnits(total)
}

/**
 * The exact dot product, rounded once, with the zero sign of Math.sumPrecise over the exact products:
 * -0 only when every product is a zero of negative sign (0 * -1), +0 for no pairs.
 */
export function referenceDot (x: readonly number[], y: readonly number[]): number {
  let total = 0n
  for (let i = 0; i < x.length; i++) total += toUnits(x[i]!) * toUnits(y[i]!)
  if (total !== 0n) return roundUnits(total, 1074n)
  const negativeZero = (i: number) => (x[i] === 0 || y[i] === 0) && signBit(x[i]!) !== signBit(y[i]!)
  return x.length > 0 && x.every((_, i) => negativeZero(i)) ? -0 : 0
}

function signBit (value: number): boolean {
  return value < 0 || Object.is(value, -0)
}
