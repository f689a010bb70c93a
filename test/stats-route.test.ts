import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Statistics } from '../src/compute/stats.js'
import { signedZeroJson } from '../src/http/signed-zero-json.js'
import { buildTestApp } from './helper.js'
import { fromBits, generateInput, type GeneratedKind } from './fixtures/generated-inputs.js'
import { float64Bytes } from './support/float64.js'

type Encoded = string | null
type Expected = Record<Exclude<keyof Statistics, 'count'>, Encoded> & { count: number }
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/stats-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Array<{ name: string, values: string[], expected: Expected }>
  generated: Array<{ kind: GeneratedKind, seed: number, count: number, offset: string, expected: Expected }>
}
const NAMES = ['sum', 'mean', 'variance', 'stdev', 'pvariance', 'pstdev', 'min', 'max'] as const

const binary = { 'content-type': 'application/octet-stream' }
const json = { 'content-type': 'application/json' }

describe('POST /v1/stats', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp() })
  afterAll(async () => { await app.close() })

  const post = (payload: string | Buffer, headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/stats', headers, payload })
  // -0 written as -0.0: JSON.stringify would send it as 0.
  const asJson = (values: ArrayLike<number>) => signedZeroJson({ values: Array.from(values) })

  /** The answer Python's statistics module gives (the fixture), compared bit for bit, or its 422. */
  async function expectPython (values: ArrayLike<number>, expected: Expected, formats = ['json', 'binary']) {
    const overflowing = NAMES.filter((name) => expected[name] === 'overflow')
    const responses = await Promise.all(formats.map((format) => format === 'json' ? post(asJson(values), json) : post(float64Bytes(values), binary)))
    for (const response of responses) {
      if (overflowing.length > 0) {
        expect(response.statusCode, response.body).toBe(422)
        expect(response.json().message).toContain(`The ${overflowing[0]} overflows float64`)
        for (const name of overflowing.slice(1)) expect(response.json().message).toContain(name)
        continue
      }
      expect(response.statusCode, response.body).toBe(200)
      const body = response.json()
      expect(body.count).toBe(expected.count)
      for (const name of NAMES) {
        const want = expected[name] === null ? null : fromBits(expected[name])
        expect(Object.is(body[name], want), `${name}: ${body[name]} where Python gives ${want}`).toBe(true)
      }
    }
  }

  it.each(fixtures.vectors.map((vector) => [vector.name, vector] as const))('equals Python 3.13 bit for bit, JSON and binary: %s', async (_name, vector) => {
    await expectPython(vector.values.map(fromBits), vector.expected)
  })

  // Up to 10^6 values: binary only (a JSON body is at most JSON_BODY_LIMIT_BYTES), split over the pool.
  it.each(fixtures.generated.map((vector) => [`${vector.kind} ${vector.count}`, vector] as const))(
    'equals Python 3.13 bit for bit on generated data (%s), binary', async (_name, vector) => {
      const offset = fromBits(vector.offset)
      await expectPython(generateInput(vector.kind, vector.seed, vector.count).map((value) => value + offset), vector.expected, ['binary'])
    })
})

describe('POST /v1/stats errors and shape', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp() })
  afterAll(async () => { await app.close() })
  const post = (payload: string | Buffer, headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/stats', headers, payload })

  it('answers 422 naming the first NaN or infinity of binary input, in whichever chunk it lies', async () => {
    const values = new Float64Array(600_000).fill(1)
    values[450_000] = Number.NaN
    values[500_000] = Infinity
    const response = await post(float64Bytes(values), binary)
    expect(response.statusCode).toBe(422)
    expect(response.json().message).toBe('Value at index 450000 is NaN: only finite numbers are accepted')
  })

  it('answers 422 naming every statistic beyond the float64 range, as Python raises OverflowError for each', async () => {
    const response = await post(JSON.stringify({ values: [1e308, -1e308] }), json)
    expect(response.statusCode).toBe(422)
    expect(response.json().message).toBe('The variance overflows float64: its exact value rounds beyond the largest double (so does the pvariance)')
  })

  it('splits a large input over the pool and answers every field', async () => {
    const response = await post(float64Bytes(new Float64Array(1_000_000).map((_, i) => i % 7)), binary)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ count: 1_000_000, min: 0, max: 6, chunks: expect.any(Number) })
    expect(response.json().chunks).toBeGreaterThan(1)
  })

  it('keeps the sign of a zero in its answer, and reads -0.0 in JSON', async () => {
    const response = await post('{"values":[-0.0, 0.0]}', json)
    expect(response.body).toMatch(/"min":-0\.0,"max":-0\.0/)
    expect(Object.is(response.json().min, -0)).toBe(true)
  })
})
