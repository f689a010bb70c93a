/**
 * The exact sum of doubles as a BigInt rational (every double is an integer number of 2^-1074 units),
 * rounded to the nearest double by searching the doubles themselves: slow, independent of the
 * superaccumulator's code, obviously right.
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

/** 2^1024 in units: where a rounded result becomes Infinity, as if the exponent range went on. */
const OVERFLOW_UNITS = 1n << (1024n + 1074n)
const INFINITY_BITS = 0x7ff0000000000000n

/** Nearest double to `units` * 2^-1074, ties to the even bit pattern; ±Infinity past the largest double. */
export function roundUnits (units: bigint): number {
  const negative = units < 0n
  const target = negative ? -units : units
  // Largest non-negative bit pattern whose value is <= target: positive doubles sort like their bits.
  let low = 0n
  let high = INFINITY_BITS - 1n
  while (low < high) {
    const middle = (low + high + 1n) / 2n
    if (toUnits(fromBits(middle)) <= target) low = middle
    else high = middle - 1n
  }
  const below = toUnits(fromBits(low))
  const above = low + 1n === INFINITY_BITS ? OVERFLOW_UNITS : toUnits(fromBits(low + 1n))
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
