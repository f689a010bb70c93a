import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nthRange, splitRange } from '../src/compute/split-range.js'

describe('splitRange', () => {
  it('covers the range exactly once, in order, with lengths differing by at most one', () => {
    fc.assert(fc.property(
      fc.integer({ min: -1e15, max: 1e15 }), fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 1, max: 256 }),
      (start, terms, parts) => {
        const ranges = splitRange({ start, end: start + terms }, parts)
        expect(ranges).toHaveLength(parts)
        expect(ranges[0]!.start).toBe(start)
        expect(ranges.at(-1)!.end).toBe(start + terms)
        for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.start).toBe(ranges[i - 1]!.end)
        const lengths = ranges.map((r) => r.end - r.start)
        expect(Math.max(...lengths) - Math.min(...lengths)).toBeLessThanOrEqual(1)
      }
    ))
  })

  it('splits 10 terms into 3 chunks of 4, 3 and 3', () => {
    expect(splitRange({ start: 0, end: 10 }, 3)).toEqual([{ start: 0, end: 4 }, { start: 4, end: 7 }, { start: 7, end: 10 }])
  })

  it('gives, by nthRange, each of the ranges splitRange returns, computed alone', () => {
    fc.assert(fc.property(
      fc.integer({ min: -1e15, max: 1e15 }), fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 1, max: 300 }),
      (start, terms, parts) => {
        const range = { start, end: start + terms }
        expect(splitRange(range, parts).map((_, index) => nthRange(range, parts, index))).toEqual(splitRange(range, parts))
      }
    ))
  })
})
