import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blockSumsJs, sumOfSquares } from '../src/compute/sum-of-squares.js'
import { blockSumsWasm, sumOfSquaresWasm } from '../src/compute/sum-of-squares-wasm.js'
import { closedForm } from './support/closed-form.js'

const MAX = Number.MAX_SAFE_INTEGER
const BLOCK = 2 ** 17

describe('the WebAssembly sum-of-squares kernel', () => {
  // Every x64 CPU with SSE4.1 (and every arm64 one) runs WebAssembly SIMD: losing it would silently
  // cost the service its kernel speed, so its absence is a failure here.
  const wasm = sumOfSquaresWasm!
  const block = blockSumsWasm!
  it('loads on this machine', () => {
    expect(sumOfSquaresWasm).toBeTypeOf('function')
    expect(blockSumsWasm).toBeTypeOf('function')
  })

  it('gives the JavaScript block sums for any block slice, every tail length included', () => {
    const js = new Float64Array(2)
    const simd = new Float64Array(2)
    fc.assert(fc.property(fc.integer({ min: 0, max: BLOCK - 1 }), fc.integer({ min: 1, max: BLOCK }), (first, wanted) => {
      const count = Math.min(wanted, BLOCK - first)
      blockSumsJs(first, count, js)
      block(first, count, simd)
      expect([...simd]).toEqual([...js])
    }), { numRuns: 300 })
    for (let count = 1; count <= 17; count++) {
      blockSumsJs(BLOCK - count, count, js)
      block(BLOCK - count, count, simd)
      expect([...simd]).toEqual([...js])
    }
  })

  it('equals the JavaScript kernel and the closed form on random ranges anywhere in the safe integers', () => {
    fc.assert(fc.property(fc.integer({ min: -MAX, max: MAX }), fc.integer({ min: 0, max: 400_000 }), (start, length) => {
      const end = Math.min(MAX, start + length)
      const expected = closedForm(start, end)
      expect(wasm(start, end)).toBe(expected)
      expect(sumOfSquares(start, end)).toBe(expected)
    }), { numRuns: 200 })
  })

  it('equals the closed form on small ranges around zero, empty and reversed ones included', () => {
    fc.assert(fc.property(fc.integer({ min: -5000, max: 5000 }), fc.integer({ min: -50, max: 3000 }), (start, length) => {
      expect(wasm(start, start + length)).toBe(closedForm(start, start + length))
    }), { numRuns: 300 })
  })

  it.each([
    ['2^17 block edges', BLOCK - 3, BLOCK * 3 + 5],
    ['2^32 boundary (where a 64-bit square overflows)', 2 ** 32 - 300_000, 2 ** 32 + 300_000],
    ['top of the safe integers', MAX - 300_000, MAX],
    ['bottom of the safe integers', -MAX, -MAX + 300_000],
    ['near 2^53 on both sides of a block', MAX - BLOCK - 10, MAX - BLOCK + 10],
    ['a range straddling zero', -1_000_001, 999_999],
    ['near 10^12, where the Go peer benchmarks', 1e12, 1e12 + 1_000_003],
    ['a single term at the top', MAX - 1, MAX],
    ['a single term at the bottom', -MAX, -MAX + 1]
  ])('is exact across %s', (_name, start, end) => {
    expect(wasm(start, end)).toBe(closedForm(start, end))
  })

  it('is exact over a 10^9-term range (the route takes up to MAX_TERMS, 10^10 by default)', () => {
    const start = 2 ** 52 - 5e8
    expect(wasm(start, start + 1e9)).toBe(closedForm(start, start + 1e9))
  })

  it('returns 0 for empty and reversed ranges and refuses unsafe bounds', () => {
    expect(wasm(5, 5)).toBe(0n)
    expect(wasm(5, -5)).toBe(0n)
    expect(() => wasm(0, 2 ** 53)).toThrow(RangeError)
    expect(() => wasm(0.5, 3)).toThrow(RangeError)
  })
})
