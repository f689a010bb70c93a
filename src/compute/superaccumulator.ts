/**
 * Neal's small superaccumulator (arXiv:1505.05571, section 3; `xsum_small` in xsum): one fixed-point
 * number wide enough for the sum of any float64 values, so adding into it is exact.
 *
 * The number is N * 2^-1074 (2^-1074 is the smallest subnormal, so every finite double is an integer
 * multiple of it), with N held in 32-bit limbs: limb k holds bits [32k, 32k + 32) of N. Neal keeps the
 * limbs in int64 so that many additions can land in one limb before a carry has to move up; JavaScript
 * has no fast int64, so here a limb is a float64 holding an integer. A float64 is exact up to 2^53,
 * which leaves 21 bits of headroom above a 32-bit digit: about two million additions to one limb
 * between carry propagations, far more than one flush of the exponent bins (`float64-bins.ts`) adds.
 *
 * After `propagateCarries` every limb but the top one is in [0, 2^32); the top one is a signed integer,
 * so a negative total needs no separate sign. Merging two accumulators is limb-wise addition, exact for
 * the same reason, which is what lets chunks of a request be summed on different threads.
 */

const LIMB = 2 ** 32

/**
 * A double's mantissa (53 bits) sits at most at bit 2045 + 32 of N once the exponent bins have shifted
 * their high halves up (see `addScaled`), so its top piece lands in limb 66. The 68th limb is headroom:
 * with carries propagated, even 2^53 values of 2^1024 need only a few bits of limb 66.
 */
export const SUPERACCUMULATOR_LIMBS = 68

export type Superaccumulator = Float64Array

/** A wider one (more limbs) holds numbers beyond a sum of doubles, such as the exact products of a dot product. */
export function createSuperaccumulator (limbs = SUPERACCUMULATOR_LIMBS): Superaccumulator {
  return new Float64Array(limbs)
}

const POW2 = Float64Array.from({ length: 32 }, (_, i) => 2 ** i)

/**
 * Adds (or subtracts) magnitude * 2^position to N, where magnitude is an integer in [0, 2^53].
 * Shifted by up to 31 bits it is still a double with 53 significant bits, so the product is exact and
 * splits exactly (power-of-two divisions, floors, and differences of integers below 2^53) into three
 * 32-bit pieces for limbs k, k+1 and k+2.
 */
export function addScaled (acc: Superaccumulator, magnitude: number, position: number, negative: boolean): void {
  if (magnitude === 0) return
  const k = position >>> 5
  const shifted = magnitude * POW2[position & 31]!
  const above0 = Math.floor(shifted / LIMB)
  const above1 = Math.floor(above0 / LIMB)
  const piece0 = shifted - above0 * LIMB
  const piece1 = above0 - above1 * LIMB
  if (negative) {
    acc[k]! -= piece0
    acc[k + 1]! -= piece1
    acc[k + 2]! -= above1
  } else {
    acc[k]! += piece0
    acc[k + 1]! += piece1
    acc[k + 2]! += above1
  }
}

/** Moves every limb's overflow into the limb above, leaving all limbs but the top one in [0, 2^32). */
export function propagateCarries (acc: Superaccumulator): void {
  for (let k = 0; k < acc.length - 1; k++) {
    const limb = acc[k]!
    if (limb >= 0 && limb < LIMB) continue
    const carry = Math.floor(limb / LIMB)
    acc[k] = limb - carry * LIMB
    acc[k + 1]! += carry
  }
}

/** target += source, exactly. Both of one width, with their carries propagated (as every exported state has). */
export function mergeSuperaccumulators (target: Superaccumulator, source: Superaccumulator): void {
  for (let k = 0; k < target.length; k++) target[k]! += source[k]!
  propagateCarries(target)
}

/** N as a BigInt (the value is N * 2^unitExponent): once per result, so clarity beats speed here. */
export function toBigInt (acc: Superaccumulator): bigint {
  propagateCarries(acc)
  let n = 0n
  for (let k = acc.length - 1; k >= 0; k--) n = (n << 32n) + BigInt(acc[k]!)
  return n
}

export function isExactZero (acc: Superaccumulator): boolean {
  propagateCarries(acc)
  return acc.every((limb) => limb === 0)
}

/**
 * The double nearest to N * 2^unitExponent (2^-1074 for a sum), ties to even: the one rounding of the
 * whole result. ±Infinity when it rounds beyond the largest double (magnitude at least 2^1024 - 2^970,
 * as IEEE 754 and Math.sumPrecise say). An exact zero is +0, the caller decides when the IEEE rules
 * make it -0; a negative N too small for the smallest subnormal rounds to -0.
 */
export function roundSuperaccumulator (acc: Superaccumulator, unitExponent = -1074): number {
  const n = toBigInt(acc)
  if (n === 0n) return 0
  const negative = n < 0n
  const magnitude = negative ? -n : n
  const bits = magnitude.toString(2).length
  // Drop the bits below a double's 53, or below 2^-1074 where subnormals stop.
  const shift = Math.max(bits - 53, -1074 - unitExponent)
  let result: number
  if (shift <= 0) {
    // At most 53 bits, every one at or above 2^-1074: the product is exact, subnormal or not.
    result = Number(magnitude) * 2 ** unitExponent
  } else {
    let kept = magnitude >> BigInt(shift)
    const dropped = magnitude - (kept << BigInt(shift))
    const half = 1n << BigInt(shift - 1)
    if (dropped > half || (dropped === half && (kept & 1n) === 1n)) kept += 1n
    // kept <= 2^53 and scale >= -1074, so kept * 2^scale is exact, unless it reaches 2^1024: then the
    // product (or 2 ** scale itself) is Infinity, which is the right answer.
    result = Number(kept) * 2 ** (shift + unitExponent)
  }
  return negative ? -result : result
}
