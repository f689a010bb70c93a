import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sumPrecise } from '../src/compute/sum.js'
import { splitRange } from '../src/compute/split-range.js'
import type { Mode } from '../src/compute/modes.js'
import { mergeSumPartials, sumChunk } from '../src/compute/sum.js'

/** What POST /v1/sum does across the pool (offload: split, run, merge), done in-process. */
function sumInChunks (values: number[], chunks: number, mode: Mode) {
  const buffer = Float64Array.from(values).buffer
  const partials = splitRange({ start: 0, end: values.length }, chunks).map(({ start, end }) => sumChunk({ buffer, start, end, mode }))
  return mergeSumPartials(partials)
}

const finite = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e308, -1e308, 1))

describe('exact partials merged across chunks', () => {
  it('give the exact sum of the whole, however the input is split', () => {
    fc.assert(fc.property(fc.array(finite, { minLength: 1, maxLength: 50 }), fc.integer({ min: 1, max: 8 }), (values, chunks) => {
      const expected = sumPrecise(Float64Array.from(values))
      const merged = sumInChunks(values, Math.min(chunks, values.length), 'exact')
      if (Number.isFinite(expected)) expect(merged).toEqual({ kind: 'sum', sum: expected })
      else expect(merged).toEqual({ kind: 'overflow' })
    }), { numRuns: 500 })
  })

  it('keep -0 only when every chunk is all -0', () => {
    expect(sumInChunks([-0, -0, -0, -0], 2, 'exact')).toEqual({ kind: 'sum', sum: -0 })
    expect(sumInChunks([-0, -0, 0, -0], 2, 'exact')).toEqual({ kind: 'sum', sum: 0 })
    expect(sumInChunks([1, -0, -1, -0], 2, 'exact')).toEqual({ kind: 'sum', sum: 0 })
  })

  it('survive an overflow inside one chunk that the other chunk cancels', () => {
    expect(sumInChunks([1e308, 1e308, 1e308, -1e308, -1e308, 0], 2, 'exact')).toEqual({ kind: 'sum', sum: 1e308 })
  })
})

describe('non-finite values across chunks', () => {
  it('are reported at the first index of the whole input, in either mode', () => {
    const values = [1, 2, 3, 4, NaN, 6, Infinity, 8]
    for (const mode of ['exact', 'fast'] as const) {
      expect(sumInChunks(values, 3, mode)).toEqual({ kind: 'non-finite', index: 4 })
      expect(sumInChunks([1, -Infinity, NaN, 4], 2, mode)).toEqual({ kind: 'non-finite', index: 1 })
    }
  })
})

describe('fast partials', () => {
  it('are added as doubles, and report an overflow of the running sum', () => {
    expect(sumInChunks([0.1, 0.2, 0.3], 1, 'fast')).toEqual({ kind: 'sum', sum: 0.6000000000000001 })
    expect(sumInChunks([1e308, 1e308, -1e308, -1e308], 1, 'fast')).toEqual({ kind: 'overflow' })
  })
})
