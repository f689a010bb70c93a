/**
 * Exact rationals of BigInts rounded once to a double, as Python's int / int does (the rounding behind
 * float(Fraction) and the statistics module). Runs once per result, on integers of a few thousand
 * bits, so it is written for clarity rather than speed.
 */

/** Bits of a non-negative BigInt, 0 for 0: Python's int.bit_length. */
export function bitLength (n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length
}

/**
 * The double nearest to num / den (den > 0), ties to even, subnormals included: Infinity (or
 * -Infinity) when it rounds to 2^1024 or beyond, where Python raises OverflowError. A negative
 * quotient too small for the smallest subnormal is -0, as in Python; a zero numerator is +0.
 */
export function ratioToDouble (num: bigint, den: bigint): number {
  if (den <= 0n) throw new RangeError('ratioToDouble needs a positive denominator')
  if (num === 0n) return 0
  const negative = num < 0n
  const a = negative ? -num : num
  // a / den lies in (2^(e-1), 2^(e+1)): its binary exponent is e or e - 1.
  const e = bitLength(a) - bitLength(den)
  const exponent = (e >= 0 ? a >= den << BigInt(e) : a << BigInt(-e) >= den) ? e : e - 1
  if (exponent >= 1024) return negative ? -Infinity : Infinity
  // The unit of the result's last bit: 53 significant bits, none below 2^-1074.
  const ulp = Math.max(exponent - 52, -1074)
  const scaledNum = ulp < 0 ? a << BigInt(-ulp) : a
  const scaledDen = ulp > 0 ? den << BigInt(ulp) : den
  let kept = scaledNum / scaledDen
  const twiceRest = 2n * (scaledNum - kept * scaledDen)
  if (twiceRest > scaledDen || (twiceRest === scaledDen && (kept & 1n) === 1n)) kept += 1n
  // kept <= 2^53 and ulp >= -1074: exact, unless rounding up reached 2^1024, which is Infinity.
  const result = Number(kept) * 2 ** ulp
  return negative ? -result : result
}

/** floor(sqrt(n)) for n >= 0, by Newton's iteration from above. */
export function isqrt (n: bigint): bigint {
  if (n < 0n) throw new RangeError('isqrt of a negative number')
  if (n < 2n) return n
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2))
  for (;;) {
    const next = (x + n / x) >> 1n
    if (next >= x) return x
    x = next
  }
}

/** sqrt(n / m) rounded to an integer, odd when inexact (round-to-odd): Python's _integer_sqrt_of_frac_rto. */
function integerSqrtRoundToOdd (n: bigint, m: bigint): bigint {
  const a = isqrt(n / m)
  return a * a * m === n ? a : a | 1n
}

/** 2 * 53 + 3: a root of at least 55 bits, two more than a double keeps, so round-to-odd then nearest rounds once. */
const SQRT_BITS = 109

/**
 * The correctly rounded square root of num / den (num >= 0, den > 0): Python 3.13's
 * statistics._float_sqrt_of_frac step for step, so stdev and pstdev match it bit for bit. Any
 * representation of the fraction gives the same double, so no gcd is needed. Infinity past the
 * largest double.
 */
export function sqrtRatioToDouble (num: bigint, den: bigint): number {
  if (num < 0n || den <= 0n) throw new RangeError('sqrtRatioToDouble needs num >= 0 and den > 0')
  const q = Math.floor((bitLength(num) - bitLength(den) - SQRT_BITS) / 2)
  if (q >= 0) return ratioToDouble(integerSqrtRoundToOdd(num, den << BigInt(2 * q)) << BigInt(q), 1n)
  return ratioToDouble(integerSqrtRoundToOdd(num << BigInt(-2 * q), den), 1n << BigInt(-q))
}
