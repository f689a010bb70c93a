import { createHash } from 'node:crypto'
import coreJsSumPrecise from 'core-js-pure/actual/math/sum-precise.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BLOCK_VALUES, addValues, firstNonFinite } from '../src/compute/float64-bins.js'
import { naiveSum, sumPrecise } from '../src/compute/sum.js'
import {
  addScaled,
  createSuperaccumulator,
  mergeSuperaccumulators,
  roundSuperaccumulator
} from '../src/compute/superaccumulator.js'
import { referenceSum, roundUnits, toUnits } from './exact-reference.js'
import { fixtures, fromBits, generateInput, toBits } from './fixtures/generated-inputs.js'

const MAX = Number.MAX_VALUE
const TINY = Number.MIN_VALUE
const isAllNegativeZero = (values: number[]) => values.every((value) => Object.is(value, -0))
const exact = (values: number[]) => sumPrecise(Float64Array.from(values))

/** Doubles of every kind fast-check knows (subnormals, ±0, ±MAX, ...), mixed with values that cancel. */
const finiteDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(1e308, -1e308, MAX, -MAX, TINY, -TINY, 2 ** -53, 1, -1, 0, -0)
)

describe('exact sum against Python math.fsum fixtures', () => {
  const { vectors } = fixtures
  const ordinary = vectors.filter((vector) => !isAllNegativeZero(vector.values.map(fromBits)))

  it.each(ordinary.map((vector) => [vector.name, vector] as const))('matches bit for bit: %s', (_name, vector) => {
    expect(toBits(exact(vector.values.map(fromBits)))).toBe(vector.expected)
  })

  it('returns -0 where every value is -0 (Math.sumPrecise), where fsum returns +0', () => {
    const negativeZeros = vectors.filter((vector) => isAllNegativeZero(vector.values.map(fromBits)))
    expect(negativeZeros.map((vector) => vector.name)).toEqual(['empty', '-0', '-0, -0'])
    for (const vector of negativeZeros) {
      expect(vector.expected).toBe(toBits(0))
      expect(Object.is(exact(vector.values.map(fromBits)), -0)).toBe(true)
    }
  })

  it('covers the cases fsum cannot: a partial sum overflows but the total does not', () => {
    const rescued = vectors.filter((vector) => vector.source === 'integer' && Number.isFinite(fromBits(vector.expected)))
    expect(rescued.length).toBeGreaterThanOrEqual(5)
    expect(exact([1e308, 1e308, -1e308])).toBe(1e308)
  })

  it.each(fixtures.generated.map((vector) => [vector.kind, vector.count, vector] as const))(
    'matches on a long generated input: %s, %d values', (_kind, _count, vector) => {
      const values = generateInput(vector.kind, vector.seed, vector.count)
      const digest = createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex')
      expect(digest, 'the JavaScript replay of the Python generator made different values').toBe(vector.sha256)
      expect(toBits(sumPrecise(values))).toBe(vector.expected)
    })
})

describe('exact sum against independent references', () => {
  it('equals a BigInt-rational sum rounded by searching the doubles, on small random inputs', () => {
    fc.assert(fc.property(fc.array(finiteDouble, { maxLength: 24 }), (values) => {
      const reference = referenceSum(values)
      const expected = reference === 0 && isAllNegativeZero(values) ? -0 : reference
      expect(exact(values)).toBe(expected)
    }), { numRuns: 1500 })
  })

  it('agrees with core-js Math.sumPrecise, NaN and infinities included', () => {
    const anyDouble = fc.oneof(finiteDouble, fc.double(), fc.constantFrom(NaN, Infinity, -Infinity))
    fc.assert(fc.property(fc.array(anyDouble, { maxLength: 40 }), (values) => {
      expect(exact(values)).toBe(coreJsSumPrecise(values))
    }), { numRuns: 1500 })
  })

  it('is invariant under permutation of its input', () => {
    const withPermutation = fc.array(finiteDouble, { minLength: 1, maxLength: 60 })
      .chain((values) => fc.tuple(fc.constant(values), fc.shuffledSubarray(values, { minLength: values.length })))
    fc.assert(fc.property(withPermutation, ([values, permuted]) => {
      expect(exact(permuted)).toBe(exact(values))
    }), { numRuns: 1000 })
  })
})

describe('exact sum at the limits of its bins', () => {
  // Low word 0xffffffff, the largest each bin's low sum can receive: 2^21 of them reach 2^53.
  const fullLowWord = 1 + (2 ** 32 - 1) * 2 ** -52

  it.each([BLOCK_VALUES - 1, BLOCK_VALUES, BLOCK_VALUES + 1, 2 * BLOCK_VALUES + 3])(
    'adds %d copies of a value with a full low word exactly', (count) => {
      const values = new Float64Array(count).fill(fullLowWord)
      values[count - 1] = 2 ** -60
      expect(sumPrecise(values)).toBe(roundUnits(toUnits(fullLowWord) * BigInt(count - 1) + toUnits(2 ** -60)))
    })

  it('handles the extremes of the exponent range in one input', () => {
    expect(exact([MAX, TINY, -MAX])).toBe(TINY)
    expect(exact([-TINY, MAX, -MAX])).toBe(-TINY)
    expect(exact([MAX, MAX, MAX, -MAX, -MAX, -MAX, TINY, TINY])).toBe(2 * TINY)
  })

  it('rounds overflowing sums to infinities of their sign, like Math.sumPrecise', () => {
    expect(exact([MAX, 2 ** 970])).toBe(Infinity)
    expect(exact([-MAX, -(2 ** 970)])).toBe(-Infinity)
    expect(exact([MAX, 2 ** 970, -(2 ** 918)])).toBe(MAX)
  })
})

describe('non-finite values', () => {
  it('follow Math.sumPrecise: NaN wins, opposite infinities make NaN, one infinity wins', () => {
    expect(exact([1, NaN, Infinity])).toBeNaN()
    expect(exact([Infinity, -Infinity])).toBeNaN()
    expect(exact([Infinity, 1e308, 1e308])).toBe(Infinity)
    expect(exact([-Infinity, -1])).toBe(-Infinity)
  })

  it('are reported by addValues and located by firstNonFinite', () => {
    const values = Float64Array.from([1, 2, -Infinity, NaN])
    expect(addValues(createSuperaccumulator(), values)).toBe(true)
    expect(addValues(createSuperaccumulator(), values.subarray(0, 2))).toBe(false)
    expect(firstNonFinite(values)).toBe(2)
    expect(firstNonFinite(values.subarray(0, 2))).toBe(-1)
  })
})

describe('small superaccumulator', () => {
  it('merges partial states into exactly the state of the whole', () => {
    fc.assert(fc.property(fc.array(finiteDouble, { maxLength: 40 }), fc.nat(), (values, cut) => {
      const at = values.length === 0 ? 0 : cut % (values.length + 1)
      const left = createSuperaccumulator()
      const right = createSuperaccumulator()
      addValues(left, Float64Array.from(values.slice(0, at)))
      addValues(right, Float64Array.from(values.slice(at)))
      mergeSuperaccumulators(left, right)
      const whole = createSuperaccumulator()
      addValues(whole, Float64Array.from(values))
      expect(Array.from(left)).toEqual(Array.from(whole))
    }), { numRuns: 500 })
  })

  it('rounds a negative total carried in its top chunk', () => {
    const acc = createSuperaccumulator()
    addScaled(acc, 3, 1074, true) // -3
    addScaled(acc, 1, 0, false) // + 2^-1074
    expect(roundSuperaccumulator(acc)).toBe(-3)
  })

  it('rounds ties to even at every scale', () => {
    for (const exponent of [-1000, -1, 0, 52, 500, 970]) {
      const unit = 2 ** exponent
      // 1 + 2^-53 and 1 + 3 * 2^-53, scaled: ties between neighbours, resolved to the even one.
      expect(exact([unit, unit * 2 ** -53])).toBe(unit)
      expect(exact([unit * (1 + 2 ** -52), unit * 2 ** -53])).toBe(unit * (1 + 2 ** -51))
    }
  })
})

describe('fast mode', () => {
  it('is the plain float64 loop, order-dependent and inexact', () => {
    expect(naiveSum(Float64Array.from([0.1, 0.2, 0.3]))).toBe(0.6000000000000001)
    expect(naiveSum(Float64Array.from([0.3, 0.2, 0.1]))).toBe(0.6)
    expect(naiveSum(Float64Array.from([1e308, 1e308, -1e308]))).toBe(Infinity)
  })
})
