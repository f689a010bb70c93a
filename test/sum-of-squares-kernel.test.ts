import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sumOfSquares } from '../src/compute/sum-of-squares.js'
import { bruteForce, closedForm } from './helper.js'

const MAX = Number.MAX_SAFE_INTEGER

describe('sumOfSquares kernel', () => {
  it('matches a BigInt brute force on small ranges, negatives and empty ones included', () => {
    fc.assert(fc.property(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -50, max: 3000 }), (start, length) => {
      expect(sumOfSquares(start, start + length)).toBe(bruteForce(start, start + length))
    }), { numRuns: 300 })
  })

  it('matches the closed form on random ranges anywhere in the safe integers', () => {
    const bound = fc.integer({ min: -MAX, max: MAX })
    fc.assert(fc.property(bound, fc.integer({ min: 0, max: 400_000 }), (start, length) => {
      const end = Math.min(MAX, start + length)
      expect(sumOfSquares(start, end)).toBe(closedForm(start, end))
    }), { numRuns: 200 })
  })

  it.each([
    ['2^26 boundary', 2 ** 26 - 300_000, 2 ** 26 + 300_000],
    ['2^17 block edges', 2 ** 17 - 3, 2 ** 17 * 3 + 5],
    ['top of the safe integers', MAX - 300_000, MAX],
    ['bottom of the safe integers', -MAX, -MAX + 300_000],
    ['a range straddling zero', -1_000_001, 999_999],
    ['near 10^12', 1e12, 1e12 + 1_000_003],
    ['a single term at the top', MAX - 1, MAX],
    ['a single term at the bottom', -MAX, -MAX + 1]
  ])('is exact across %s', (_name, start, end) => {
    expect(sumOfSquares(start, end)).toBe(closedForm(start, end))
  })

  it('sums squares past 2^106 exactly (every term of the top range exceeds float64 precision)', () => {
    const value = sumOfSquares(MAX - 2, MAX)
    expect(value).toBe(BigInt(MAX - 2) ** 2n + BigInt(MAX - 1) ** 2n)
  })

  it('returns 0 for empty and reversed ranges', () => {
    expect(sumOfSquares(5, 5)).toBe(0n)
    expect(sumOfSquares(5, -5)).toBe(0n)
  })

  it('refuses bounds that are not safe integers', () => {
    expect(() => sumOfSquares(0, 2 ** 53)).toThrow(RangeError)
    expect(() => sumOfSquares(0.5, 3)).toThrow(RangeError)
  })
})
