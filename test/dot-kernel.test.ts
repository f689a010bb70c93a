import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import coreJsSumPrecise from 'core-js-pure/actual/math/sum-precise.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dotChunk, dotPrecise, mergeDotPartials, PAIRS_PER_FLUSH } from '../src/compute/dot.js'
import type { Mode } from '../src/compute/modes.js'
import { splitRange } from '../src/compute/split-range.js'
import { referenceDot, roundUnits, toUnits } from './exact-reference.js'
import { fromBits, generateInput, toBits, type GeneratedKind } from './fixtures/generated-inputs.js'

interface DotVector { name: string, x: string[], y: string[], expected: string, expectedRepr: string }
interface GeneratedDotVector {
  x: { kind: GeneratedKind, seed: number, sha256: string }
  y: { kind: GeneratedKind, seed: number, sha256: string }
  count: number
  expected: string
  expectedRepr: string
}
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/dot-vectors.json', import.meta.url), 'utf8')) as {
  vectors: DotVector[]
  generated: GeneratedDotVector[]
}

const MAX = Number.MAX_VALUE
const TINY = Number.MIN_VALUE
const f64 = (values: readonly number[]) => Float64Array.from(values)
const exact = (x: readonly number[], y: readonly number[]) => dotPrecise(f64(x), f64(y))
/** The fixtures' encoding: the bits of the expected double, or "overflow". */
const encoded = (dot: number) => Number.isFinite(dot) ? toBits(dot) : 'overflow'

/** Doubles of every kind: any exponent, subnormals, ±0, values whose products overflow or underflow. */
const finiteDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(1e300, -1e300, 1e-300, MAX, -MAX, TINY, -TINY, 2 ** -537, 2 ** -538, 1 + 2 ** -52, 1, -1, 0, -0)
)
const pairs = (maxLength: number) => fc.array(fc.tuple(finiteDouble, finiteDouble), { maxLength })
const unzip = (list: Array<[number, number]>) => [list.map((pair) => pair[0]), list.map((pair) => pair[1])] as const

/** What the route does across the pool, done in-process: x then y in one buffer, split, merge. */
function dotInChunks (x: readonly number[], y: readonly number[], chunks: number, mode: Mode) {
  const n = x.length
  const buffer = f64([...x, ...y]).buffer
  const partials = splitRange({ start: 0, end: n }, chunks).map(({ start, end }) => dotChunk({ buffer, n, start, end, mode }))
  return mergeDotPartials(partials)
}

describe('exact dot product against Python fractions fixtures', () => {
  it.each(fixtures.vectors.map((vector) => [vector.name, vector] as const))('matches bit for bit: %s', (_name, vector) => {
    expect(encoded(exact(vector.x.map(fromBits), vector.y.map(fromBits)))).toBe(vector.expected)
  })

  it('covers products that overflow and underflow float64, and results that do', () => {
    const names = fixtures.vectors.map((vector) => vector.name)
    expect(names).toEqual(expect.arrayContaining(['1e200 * 1e200 - 1e200 * 1e200', '1e-200 * -1e-200: rounds to -0', '1e200 * 1e200: overflows']))
    expect(fixtures.vectors.filter((vector) => vector.expected === 'overflow').length).toBeGreaterThanOrEqual(4)
  })

  it.each(fixtures.generated.map((vector) => [`${vector.x.kind} x ${vector.y.kind}`, vector.count, vector] as const))(
    'matches on a long generated input: %s, %d pairs', (_kinds, _count, vector) => {
      const x = generateInput(vector.x.kind, vector.x.seed, vector.count)
      const y = generateInput(vector.y.kind, vector.y.seed, vector.count)
      for (const [values, side] of [[x, vector.x], [y, vector.y]] as const) {
        const digest = createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex')
        expect(digest, 'the JavaScript replay of the Python generator made different values').toBe(side.sha256)
      }
      expect(encoded(dotPrecise(x, y))).toBe(vector.expected)
    })
})

describe('exact dot product against independent references', () => {
  it('equals a BigInt-rational dot product rounded by searching the doubles, on small random inputs', () => {
    fc.assert(fc.property(pairs(16), (list) => {
      const [x, y] = unzip(list)
      expect(exact(x, y)).toBe(referenceDot(x, y))
    }), { numRuns: 2000 })
  })

  it('equals the float64 product for a single pair: IEEE multiplication is correctly rounded too', () => {
    fc.assert(fc.property(finiteDouble, finiteDouble, (x, y) => {
      expect(exact([x], [y])).toBe(x * y)
    }), { numRuns: 3000 })
  })

  it('agrees with core-js Math.sumPrecise of the products where every product is exact in float64', () => {
    // 26-bit mantissas and moderate exponents: each product fits a double, so summing the float64
    // products precisely is the exact dot product, signed zeros included.
    const short = fc.tuple(fc.integer({ min: -(2 ** 26), max: 2 ** 26 }), fc.integer({ min: -400, max: 400 }))
      .map(([mantissa, exponent]) => mantissa * 2 ** exponent)
    const shortOrZero = fc.oneof(short, fc.constantFrom(0, -0))
    fc.assert(fc.property(fc.array(fc.tuple(shortOrZero, shortOrZero), { minLength: 1, maxLength: 40 }), (list) => {
      const [x, y] = unzip(list)
      expect(exact(x, y)).toBe(coreJsSumPrecise(x.map((value, i) => value * y[i]!)))
    }), { numRuns: 2000 })
  })

  it('is invariant under permutation of its pairs', () => {
    const withPermutation = fc.array(fc.tuple(finiteDouble, finiteDouble), { minLength: 1, maxLength: 60 })
      .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length })))
    fc.assert(fc.property(withPermutation, ([list, permuted]) => {
      expect(exact(...unzip(permuted))).toBe(exact(...unzip(list)))
    }), { numRuns: 1000 })
  })
})

describe('exact dot product at the extremes', () => {
  it('is exact where the products overflow float64', () => {
    expect(exact([1e200, 1e200], [1e200, -1e200])).toBe(0)
    expect(exact([MAX, MAX, 3], [MAX, -MAX, 0.5])).toBe(1.5)
    expect(exact([1e300, 1e300, 1e-300], [1e300, -1e300, 1e-300])).toBe(0)
    expect(exact([MAX, MAX], [2, -1.5])).toBe(MAX / 2)
  })

  it('is exact where the products underflow float64', () => {
    expect(exact([1, 1e-200, -1], [1, 1e-200, 1])).toBe(0)
    expect(exact([1e-200], [1e-200])).toBe(0)
    // Two products of half the smallest subnormal make it; three tie to the even 2^-1073.
    expect(exact([2 ** -538, 2 ** -538], [2 ** -537, 2 ** -537])).toBe(TINY)
    expect(exact([2 ** -538, 2 ** -538, 2 ** -538], [2 ** -537, 2 ** -537, 2 ** -537])).toBe(2 * TINY)
    expect(exact([MAX, TINY, -MAX], [TINY, TINY, TINY])).toBe(0)
  })

  it('rounds overflowing results to infinities of their sign', () => {
    expect(exact([1e200], [1e200])).toBe(Infinity)
    expect(exact([-MAX, -(2 ** 970)], [1, 1])).toBe(-Infinity)
    expect(exact([MAX, 2 ** 970, 2 ** -600], [1, 1, -(2 ** -600)])).toBe(MAX)
  })

  it.each([PAIRS_PER_FLUSH - 1, PAIRS_PER_FLUSH, PAIRS_PER_FLUSH + 1, 2 ** 21 + 3])(
    'adds %d copies of one product near the largest its sums take, exactly', (count) => {
      // Mantissas near 2 give x'y' near 4, the most a pair adds; these leave each of its three pieces
      // above 2^33 units and odd, so a sum past 2^53 would round.
      const [x, y] = [1.9310016695410093, 1.922253784279319 * 2 ** -900]
      const xs = new Float64Array(count).fill(x)
      const ys = new Float64Array(count).fill(y)
      ys[count - 1] = 2 ** -1000
      const expected = roundUnits(toUnits(x) * (toUnits(y) * BigInt(count - 1) + toUnits(2 ** -1000)), 1074n)
      expect(dotPrecise(xs, ys)).toBe(expected)
    })
})

describe('signed zeros', () => {
  it('are -0 only when every product is a zero of negative sign, as Math.sumPrecise does', () => {
    expect(Object.is(exact([0], [-1]), -0)).toBe(true)
    expect(Object.is(exact([-0, 3], [5, -0]), -0)).toBe(true)
    expect(Object.is(exact([-0], [-0]), 0)).toBe(true)
    expect(Object.is(exact([0, 0], [-1, 1]), 0)).toBe(true)
    expect(Object.is(exact([1, 1], [1, -1]), 0)).toBe(true)
  })

  it('are -0 for a negative result too small for the smallest subnormal', () => {
    expect(Object.is(exact([1e-200], [-1e-200]), -0)).toBe(true)
    expect(Object.is(exact([0, -1e-200], [1, 1e-200]), -0)).toBe(true)
  })

  it('are +0 for empty vectors, where Math.sumPrecise([]) is -0 (Python\'s math.sumprod gives 0)', () => {
    expect(Object.is(exact([], []), 0)).toBe(true)
    expect(mergeDotPartials([])).toEqual({ kind: 'dot', dot: 0 })
    expect(dotInChunks([], [], 1, 'exact')).toEqual({ kind: 'dot', dot: 0 })
  })
})

describe('non-finite inputs', () => {
  it('give what Math.sumPrecise gives for the float64 products', () => {
    expect(exact([1, NaN], [1, 1])).toBeNaN()
    expect(exact([Infinity, 1], [0, 1])).toBeNaN()
    expect(exact([Infinity, -Infinity], [1, 1])).toBeNaN()
    expect(exact([Infinity, 1e200], [2, -1e200])).toBe(Infinity)
    expect(exact([-Infinity, 1], [1, 1])).toBe(-Infinity)
  })
})

describe('chunks merged', () => {
  it('give the exact dot product of the whole, however the pairs are split', () => {
    fc.assert(fc.property(fc.array(fc.tuple(finiteDouble, finiteDouble), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 8 }), (list, chunks) => {
      const [x, y] = unzip(list)
      const expected = exact(x, y)
      const merged = dotInChunks(x, y, Math.min(chunks, x.length), 'exact')
      expect(merged).toEqual(Number.isFinite(expected) ? { kind: 'dot', dot: expected } : { kind: 'overflow' })
    }), { numRuns: 500 })
  })

  it('keep -0 only when every chunk\'s products are all -0', () => {
    expect(dotInChunks([0, -0, 0, 0], [-1, 1, -2, -0.5], 2, 'exact')).toEqual({ kind: 'dot', dot: -0 })
    expect(dotInChunks([0, -0, 0, 0], [-1, 1, 2, -0.5], 2, 'exact')).toEqual({ kind: 'dot', dot: 0 })
  })

  it('survive an overflowing product in one chunk that another chunk cancels', () => {
    expect(dotInChunks([1e200, 1, 1e200, 0], [1e200, 1, -1e200, 0], 2, 'exact')).toEqual({ kind: 'dot', dot: 1 })
  })

  it('report the first pair with a NaN or an infinity, x before y, in either mode', () => {
    for (const mode of ['exact', 'fast'] as const) {
      expect(dotInChunks([1, 2, 3, 4, 5, 6], [1, 2, 3, NaN, 5, Infinity], 3, mode)).toEqual({ kind: 'non-finite', index: 3 })
      expect(dotInChunks([1, 2, -Infinity, 4], [1, NaN, 3, 4], 2, mode)).toEqual({ kind: 'non-finite', index: 1 })
    }
  })
})

describe('mode=fast', () => {
  it('is the plain float64 loop: inexact, and Infinity once a product or the running sum overflows', () => {
    expect(dotInChunks([1e16, 1, -1e16], [1, 1, 1], 1, 'fast')).toEqual({ kind: 'dot', dot: 0 })
    expect(exact([1e16, 1, -1e16], [1, 1, 1])).toBe(1)
    expect(dotInChunks([0.1, 0.2, 0.3], [1, 1, -1], 1, 'fast')).toEqual({ kind: 'dot', dot: 0.1 + 0.2 - 0.3 })
    expect(dotInChunks([1e200, 1e200], [1e200, -1e200], 1, 'fast')).toEqual({ kind: 'overflow' })
  })
})
