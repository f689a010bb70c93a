import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { splitRange } from '../src/compute/split-range.js'
import { ratioToDouble, sqrtRatioToDouble } from '../src/compute/rational.js'
import { mergeStatsPartials, overflowingStatistics, statsChunk, type Statistics } from '../src/compute/stats.js'
import { roundUnits, toUnits } from './exact-reference.js'
import { fromBits, generateInput, toBits, type GeneratedKind } from './fixtures/generated-inputs.js'

type Encoded = string | null
type ExpectedStats = Record<Exclude<keyof Statistics, 'count'>, Encoded> & { count: number }
interface StatsVector { name: string, values: string[], expected: ExpectedStats, fsum?: string }
interface GeneratedStatsVector { kind: GeneratedKind, seed: number, count: number, offset: string, sha256: string, expected: ExpectedStats, fsum?: string }
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/stats-vectors.json', import.meta.url), 'utf8')) as {
  vectors: StatsVector[]
  generated: GeneratedStatsVector[]
}

const MAX = Number.MAX_VALUE
const TINY = Number.MIN_VALUE

/** What the route will do across the pool, done in-process: one buffer, split into chunks, merged. */
function statsInChunks (values: ArrayLike<number>, chunks: number) {
  const buffer = Float64Array.from(values).buffer
  const partials = splitRange({ start: 0, end: values.length }, chunks).map(({ start, end }) => statsChunk({ buffer, start, end }))
  return mergeStatsPartials(partials)
}

function stats (values: ArrayLike<number>, chunks = 1): Statistics {
  const result = statsInChunks(values, chunks)
  if (result.kind !== 'stats') throw new Error(`expected statistics, got ${JSON.stringify(result)}`)
  return result.stats
}

/** The fixtures' encoding: a double's bits, "overflow", or null. */
function encode (result: Statistics): ExpectedStats {
  const entries = Object.entries(result).map(([name, value]) =>
    [name, name === 'count' || value === null || value === 'overflow' ? value : toBits(value as number)])
  return Object.fromEntries(entries) as ExpectedStats
}

// --- The reference: Python's Fractions done plainly in BigInt, each double found by searching the bit patterns.

const INFINITY_BITS = 0x7ff0000000000000n
const view = new DataView(new ArrayBuffer(8))
const doubleOf = (bits: bigint) => { view.setBigUint64(0, bits); return view.getFloat64(0) }
/** A non-negative double's bit pattern as an exact rational: units of 2^-1074, 2^1024 for Infinity. */
const unitsOf = (bits: bigint) => bits === INFINITY_BITS ? 1n << 2098n : toUnits(doubleOf(bits))

/** Largest bit pattern below Infinity whose double d has below(units of d) true. */
function searchDoubles (below: (units: bigint) => boolean): bigint {
  let low = 0n
  let high = INFINITY_BITS - 1n
  while (low < high) {
    const middle = (low + high + 1n) / 2n
    if (below(unitsOf(middle))) low = middle
    else high = middle - 1n
  }
  return low
}

/** Nearest double to num / den, ties to even; ±Infinity past the largest; -0 for a tiny negative. */
function referenceRatio (num: bigint, den: bigint): number {
  if (num < 0n) return -referenceRatio(-num, den)
  const target = num << 1074n
  const low = searchDoubles((units) => units * den <= target)
  const down = target - unitsOf(low) * den
  const up = unitsOf(low + 1n) * den - target
  return doubleOf(down < up || (down === up && (low & 1n) === 0n) ? low : low + 1n)
}

/** Nearest double to sqrt(num / den), ties to even: compared with the square of the midpoint, exactly. */
function referenceSqrt (num: bigint, den: bigint): number {
  const target = num << 2148n
  const low = searchDoubles((units) => units * units * den <= target)
  const twiceMid = unitsOf(low) + unitsOf(low + 1n)
  const square = twiceMid * twiceMid * den
  const pick = 4n * target < square || (4n * target === square && (low & 1n) === 0n) ? low : low + 1n
  return doubleOf(pick)
}

const orOverflow = (value: number) => Number.isFinite(value) ? value : 'overflow'

function referenceStats (values: number[]): Statistics {
  const n = BigInt(values.length)
  const s = values.reduce((total, value) => total + toUnits(value), 0n)
  const q = values.reduce((total, value) => total + toUnits(value) ** 2n, 0n)
  const ss = n * q - s * s // n times the sum of squared deviations, in units of 2^-2148
  const [unit, squareUnit] = [1n << 1074n, 1n << 2148n]
  const first = (pick: (...all: number[]) => number) => values.find((value) => value === pick(...values)) ?? null
  return {
    count: values.length,
    sum: orOverflow(s === 0n ? 0 : roundUnits(s)),
    mean: n < 1n ? null : referenceRatio(s, n * unit),
    variance: n < 2n ? null : orOverflow(referenceRatio(ss, n * (n - 1n) * squareUnit)),
    stdev: n < 2n ? null : orOverflow(referenceSqrt(ss, n * (n - 1n) * squareUnit)),
    pvariance: n < 1n ? null : orOverflow(referenceRatio(ss, n * n * squareUnit)),
    pstdev: n < 1n ? null : referenceSqrt(ss, n * n * squareUnit),
    min: first(Math.min),
    max: first(Math.max)
  }
}

const finiteDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.integer({ min: -1000, max: 1000 }).map((k) => 1e15 + k),
  fc.constantFrom(1e308, -1e308, MAX, -MAX, TINY, -TINY, 1e-300, 2 ** -1000, 1, -1, 0, -0)
)

describe('statistics against Python 3.13 fixtures', () => {
  it.each(fixtures.vectors.map((vector) => [vector.name, vector] as const))('match bit for bit, however chunked: %s', (_name, vector) => {
    const values = vector.values.map(fromBits)
    for (const chunks of new Set([1, 2, 3, values.length, values.length + 2])) {
      expect(encode(stats(values, Math.max(chunks, 1))), `${chunks} chunks`).toEqual(vector.expected)
    }
  })

  it.each(fixtures.generated.map((vector) => [vector.kind, vector.count, fromBits(vector.offset), vector] as const))(
    'match on a long generated input: %s, %d values, offset %d', (_kind, count, offset, vector) => {
      const values = generateInput(vector.kind, vector.seed, count)
      for (let i = 0; i < count; i++) values[i]! += offset
      const digest = createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex')
      expect(digest, 'the JavaScript replay of the Python generator made different values').toBe(vector.sha256)
      expect(encode(stats(values, 5))).toEqual(vector.expected)
    })

  it('give the exact sum where math.fsum raises on a partial sum that overflows', () => {
    const rescued = fixtures.vectors.filter((vector) => vector.fsum !== undefined)
    expect(rescued.map((vector) => vector.name)).toContain('1e308, 1e308, -1e308: fsum raises, the exact sum is 1e308')
    expect(stats([1e308, 1e308, -1e308]).sum).toBe(1e308)
  })
})

describe('statistics against a BigInt rational reference', () => {
  it('equal the exact rationals rounded once, for any chunking', () => {
    fc.assert(fc.property(fc.array(finiteDouble, { maxLength: 12 }), fc.integer({ min: 1, max: 5 }), (values, chunks) => {
      expect(stats(values, chunks)).toEqual(referenceStats(values))
    }), { numRuns: 300 })
  })

  it('equal them on data of one magnitude plus a large offset', () => {
    const offsetData = fc.tuple(fc.constantFrom(1e9, 1e15, -1e12, 2 ** 52), fc.array(fc.double({ min: -8, max: 8, noNaN: true }), { minLength: 2, maxLength: 10 }))
      .map(([offset, spread]) => spread.map((value) => offset + value))
    fc.assert(fc.property(offsetData, (values) => {
      expect(stats(values, 2)).toEqual(referenceStats(values))
    }), { numRuns: 200 })
  })
})

describe('cases where textbook formulas fail', () => {
  const textbookVariance = (values: number[]) => {
    const n = values.length
    const mean = values.reduce((a, b) => a + b, 0) / n
    return (values.reduce((a, b) => a + b * b, 0) - n * mean * mean) / (n - 1)
  }

  it('a large offset with a tiny spread: exact, where sum(x^2) - n mean^2 loses every digit or goes negative', () => {
    const values = [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]
    expect(stats(values).variance).toBe(30)
    expect(textbookVariance(values)).not.toBe(30)
    const spread = [1e15, 1e15 + 1, 1e15]
    expect(stats(spread).variance).toBe(1 / 3)
    expect(stats(spread).stdev).toBe(Math.sqrt(1 / 3))
    expect(textbookVariance(spread)).toBeLessThanOrEqual(0)
  })

  it('near 1e-300: the variance underflows to 0, the stdev is the root of the exact variance, not of 0', () => {
    const result = stats([1e-300, 2e-300, 3e-300])
    expect(result.variance).toBe(0)
    expect(result.stdev).toBeCloseTo(1e-300, 310)
    expect(result.stdev).toBeGreaterThan(0)
    expect(stats([TINY, 0]).stdev).toBe(TINY)
  })

  it('the mean is the exact sum over n rounded once, not the rounded sum over n, and never overflows', () => {
    expect(stats([1e308, 1e308])).toMatchObject({ sum: 'overflow', mean: 1e308 })
    // 1 + 2^-52 + 2^-53 (the sum) is a tie that rounds to 1 + 2^-51: half of that is not the mean.
    const values = [1, 2 ** -52, 2 ** -53]
    const mean = referenceRatio(toUnits(1) + toUnits(2 ** -52) + toUnits(2 ** -53), 3n << 1074n)
    expect(stats(values).mean).toBe(mean)
    expect((1 + 2 ** -51) / 3).not.toBe(mean)
    expect(stats([-TINY, 0, 0]).mean).toBe(-0)
  })
})

describe('the one rounding', () => {
  it('breaks ties to even, for quotients and for square roots that fall exactly between two doubles', () => {
    expect(ratioToDouble(2n ** 53n + 1n, 2n ** 53n)).toBe(1)
    expect(ratioToDouble(2n ** 53n + 3n, 2n ** 53n)).toBe(1 + 2 ** -51)
    expect(ratioToDouble(-1n, 2n ** 1075n)).toBe(-0)
    expect(ratioToDouble(3n, 2n ** 1075n)).toBe(2 * TINY)
    expect(sqrtRatioToDouble((2n ** 53n + 1n) ** 2n, 2n ** 106n)).toBe(1)
    expect(sqrtRatioToDouble((2n ** 53n + 3n) ** 2n, 2n ** 106n)).toBe(1 + 2 ** -51)
    expect(stats([1, 1 + 2 ** -52]).mean).toBe(1)
  })

  it('overflows exactly where the rounded value reaches 2^1024', () => {
    expect(ratioToDouble(2n ** 1024n - 2n ** 970n - 1n, 1n)).toBe(MAX)
    expect(ratioToDouble(2n ** 1024n - 2n ** 970n, 1n)).toBe(Infinity)
    expect(sqrtRatioToDouble(2n ** 2048n, 1n)).toBe(Infinity)
  })
})

describe('signed zeros and first-wins min and max', () => {
  it('min and max keep the first of equal values, across chunks too', () => {
    for (const chunks of [1, 2]) {
      expect(stats([0, -0], chunks)).toMatchObject({ min: 0, max: 0 })
      expect(stats([-0, 0], chunks)).toMatchObject({ min: -0, max: -0 })
    }
    expect(stats([1, -0, 3, 0, -0], 3)).toMatchObject({ min: -0, max: 3 })
    expect(stats([3, 0, -0, 5])).toMatchObject({ min: 0, max: 5 })
    expect(stats([-3, -0, 0, -2, 0])).toMatchObject({ min: -3, max: -0 })
    expect(stats([2, 0, -0])).toMatchObject({ min: 0, max: 2 })
  })

  it('sum, mean and the variances of zeros are +0, as Python 3.13 gives them', () => {
    const result = stats([-0, -0], 2)
    for (const name of ['sum', 'mean', 'variance', 'stdev', 'pvariance', 'pstdev'] as const) expect(result[name], name).toBe(0)
  })
})

describe('few values', () => {
  it('report null where Python raises StatisticsError: no mean without values, no variance or stdev below two', () => {
    expect(stats([])).toEqual({ count: 0, sum: 0, mean: null, variance: null, stdev: null, pvariance: null, pstdev: null, min: null, max: null })
    expect(stats([-2.5])).toEqual({ count: 1, sum: -2.5, mean: -2.5, variance: null, stdev: null, pvariance: 0, pstdev: 0, min: -2.5, max: -2.5 })
    expect(stats([1, 2])).toMatchObject({ variance: 0.5, pvariance: 0.25, pstdev: 0.5 })
  })

  it('merge chunks that hold no values', () => {
    expect(stats([1, 2], 5)).toEqual(stats([1, 2]))
    expect(mergeStatsPartials([])).toEqual(statsInChunks([], 1))
  })
})

describe('overflow', () => {
  it('is reported per statistic, the others still right', () => {
    const result = stats([MAX, -MAX], 2)
    expect(overflowingStatistics(result)).toEqual(['variance', 'stdev', 'pvariance'])
    expect(result).toMatchObject({ sum: 0, mean: 0, pstdev: MAX })
    expect(overflowingStatistics(stats([1e308, -1e308]))).toEqual(['variance', 'pvariance'])
    expect(overflowingStatistics(stats([1.2e154, -1.2e154]))).toEqual(['variance'])
    expect(overflowingStatistics(stats([MAX, 2 ** 970]))).toEqual(['sum', 'variance', 'pvariance'])
    expect(overflowingStatistics(stats([1, 2, 3]))).toEqual([])
  })
})

describe('non-finite values', () => {
  it('report the index of the first NaN or infinity of the whole input', () => {
    expect(statsInChunks([1, 2, NaN, 4, Infinity, 6], 3)).toEqual({ kind: 'non-finite', index: 2 })
    expect(statsInChunks([1, 2, 3, 4, -Infinity, NaN], 3)).toEqual({ kind: 'non-finite', index: 4 })
    expect(statsInChunks([Infinity], 1)).toEqual({ kind: 'non-finite', index: 0 })
  })
})
