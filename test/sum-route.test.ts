import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sumPrecise } from '../src/compute/sum.js'
import type { ExecutorEvent } from '../src/executor/executor.js'
import { buildTestApp, json } from './helper.js'
import { float64Bytes, randomValues } from './support/float64.js'

const binary = { 'content-type': 'application/octet-stream' }
const MAX = Number.MAX_VALUE

describe('POST /v1/sum', () => {
  let app: FastifyInstance
  const events: ExecutorEvent[] = []
  beforeAll(async () => {
    app = await buildTestApp()
    app.executor.on((event) => events.push(event))
  })
  afterAll(async () => { await app.close() })

  const post = (payload: string | Buffer | object, headers: Record<string, string> = json, query = '') =>
    app.inject({ method: 'POST', url: `/v1/sum${query}`, headers, payload: typeof payload === 'object' && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload })

  describe('answers with the exact sum by default', () => {
    it('returns the documented body for JSON input', async () => {
      const response = await post({ values: [0.1, 0.2, 0.3] })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ sum: 0.6, count: 3, mode: 'exact', chunks: 1, elapsedMs: expect.any(Number) })
    })

    it('sums binary input without failing on intermediate overflow', async () => {
      const response = await post(float64Bytes([1e308, 1e308, -1e308]), binary)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ sum: 1e308, count: 3, mode: 'exact' })
    })

    it('accepts a content type with parameters', async () => {
      const response = await post(float64Bytes([1, 2 ** -53]), { 'content-type': 'application/octet-stream; foo=bar' })
      expect(response.json()).toMatchObject({ sum: 1, count: 2 })
    })

    it('sums empty input to 0, without a task', async () => {
      expect((await post({ values: [] })).json()).toMatchObject({ sum: 0, count: 0, chunks: 0 })
      expect((await post(Buffer.alloc(0), binary)).json()).toMatchObject({ sum: 0, count: 0, chunks: 0 })
    })

    it('keeps small inputs in one chunk and splits large ones over the pool, with the same exact result', async () => {
      const small = randomValues(1000)
      const large = randomValues(1_500_000)
      const smallReply = (await post(float64Bytes(small), binary)).json()
      const largeReply = (await post(float64Bytes(large), binary)).json()
      expect(smallReply).toMatchObject({ sum: sumPrecise(small), count: 1000, chunks: 1 })
      expect(largeReply).toMatchObject({ sum: sumPrecise(large), count: 1_500_000, chunks: 2 })
    })

    it('gives the same answer for the same numbers sent as JSON or binary', async () => {
      const values = Array.from(randomValues(5000))
      const fromJson = (await post({ values })).json()
      const fromBinary = (await post(float64Bytes(values), binary)).json()
      expect(fromJson.sum).toBe(fromBinary.sum)
      expect(fromJson.sum).toBe(sumPrecise(Float64Array.from(values)))
    })
  })

  describe('mode=fast', () => {
    it('is the plain float64 loop: inexact and order-dependent', async () => {
      const forward = (await post({ values: [0.1, 0.2, 0.3] }, json, '?mode=fast')).json()
      const backward = (await post({ values: [0.3, 0.2, 0.1] }, json, '?mode=fast')).json()
      expect(forward).toMatchObject({ sum: 0.6000000000000001, mode: 'fast' })
      expect(backward.sum).toBe(0.6)
    })
  })

  describe('answers 400 for a body or query it cannot read', () => {
    it.each([
      ['an array', [1, 2], 'body'],
      ['a missing values', {}, 'body.values'],
      ['values not an array', { values: 5 }, 'body.values'],
      ['a string among the values', { values: [1, '2'] }, 'body.values.1'],
      ['a null among the values', { values: [1, 2, null] }, 'body.values.2'],
      ['an unknown field', { values: [1], extra: true }, 'body']
    ])('JSON body with %s', async (_name, payload, path) => {
      const response = await post(payload)
      expect(response.statusCode).toBe(400)
      expect(response.json().issues.map((issue: { path: string }) => issue.path)).toContain(path)
    })

    it('a JSON number beyond the float64 range, naming its index', async () => {
      const response = await post('{"values": [1, 2, 1e999]}')
      expect(response.statusCode).toBe(400)
      expect(response.json().issues).toEqual([{ path: 'body.values.2', message: expect.stringMatching(/Infinity/) }])
    })

    it.each([['malformed', '{"values": [1,'], ['empty', '']])('%s JSON', async (_name, payload) => {
      const response = await post(payload)
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ statusCode: 400, error: 'Bad Request' })
    })

    it.each([1, 10, 8 * 3 + 7])('a binary body of %d bytes, not whole float64s', async (bytes) => {
      const response = await post(Buffer.alloc(bytes), binary)
      expect(response.statusCode).toBe(400)
      expect(response.json().message).toBe(`An application/octet-stream body must be whole float64 values, but ${bytes} bytes is not a multiple of 8`)
    })

    it.each([['?mode=slow', 'querystring.mode'], ['?mode=fast&chunks=2', 'querystring']])('query %s', async (query, path) => {
      const response = await post({ values: [1] }, json, query)
      expect(response.statusCode).toBe(400)
      expect(response.json().issues.map((issue: { path: string }) => issue.path)).toContain(path)
    })
  })

  describe('answers 415 for anything but JSON and octet-stream', () => {
    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('%s', async (type) => {
      const response = await post('1 2 3', { 'content-type': type })
      expect(response.statusCode).toBe(415)
      expect(response.json()).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', message: expect.stringContaining(`Content-Type ${type} is not accepted`) })
    })

    it('a POST without a body', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/sum' })
      expect(response.statusCode).toBe(415)
      expect(response.json().message).toMatch(/application\/octet-stream/)
    })

    it('while the other routes still refuse binary bodies', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: binary, payload: float64Bytes([1]) })
      expect(response.statusCode).toBe(415)
    })
  })

  describe('answers 422 for values or sums that are not finite numbers', () => {
    it.each([
      ['1, 2, NaN, Infinity', [1, 2, NaN, Infinity], 2, 'NaN'],
      ['Infinity, 1', [Infinity, 1], 0, 'Infinity'],
      ['1, -Infinity', [1, -Infinity], 1, '-Infinity']
    ])('binary [%s]: names index %d', async (_name, values, index, what) => {
      for (const query of ['', '?mode=fast']) {
        const response = await post(float64Bytes(values), binary, query)
        expect(response.statusCode).toBe(422)
        expect(response.json()).toMatchObject({
          statusCode: 422,
          error: 'Unprocessable Entity',
          message: `Value at index ${index} is ${what}: only finite numbers are accepted`
        })
      }
    })

    it('names the first offending index of the whole input when it lies in a later chunk', async () => {
      const values = randomValues(1_200_000)
      values[1_100_000] = -Infinity
      values[1_150_000] = NaN
      const response = await post(float64Bytes(values), binary)
      expect(response.json().message).toBe('Value at index 1100000 is -Infinity: only finite numbers are accepted')
    })

    it('a sum beyond the largest double, in either mode', async () => {
      const exact = await post(float64Bytes([MAX, MAX]), binary)
      expect(exact.statusCode).toBe(422)
      expect(exact.json().message).toMatch(/^The sum overflows float64/)
      expect((await post(float64Bytes([-MAX, -(2 ** 970)]), binary)).statusCode).toBe(422)
    })

    it('in fast mode, an overflow of the running sum that exact mode survives', async () => {
      const bytes = float64Bytes([1e308, 1e308, -1e308])
      expect((await post(bytes, binary, '?mode=fast')).statusCode).toBe(422)
      expect((await post(bytes, binary)).json().sum).toBe(1e308)
    })
  })

  it('stays up with the pool at full strength after every one of those errors', async () => {
    const response = await post(float64Bytes(randomValues(1_100_000)), binary)
    expect(response.statusCode).toBe(200)
    expect(response.json().chunks).toBe(2)
    expect(app.executor.stats()).toMatchObject({ threads: 2, queued: 0, running: 0 })
    expect(events.filter((event) => event.type !== 'task-settled' || event.status !== 'completed')).toEqual([])
  })
})

describe('BODY_LIMIT_BYTES', () => {
  it('answers 413 past the limit, for binary and JSON alike, and accepts a body of exactly the limit', async () => {
    const app = await buildTestApp({ BODY_LIMIT_BYTES: '1024' })
    const post = (payload: Buffer | string, headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/sum', headers, payload })
    const atLimit = await post(Buffer.alloc(1024), binary)
    const overBinary = await post(Buffer.alloc(1032), binary)
    const overJson = await post(JSON.stringify({ values: new Array(600).fill(1) }), json)
    await app.close()
    expect(atLimit.statusCode).toBe(200)
    expect(atLimit.json()).toMatchObject({ sum: 0, count: 128 })
    expect(overBinary.statusCode).toBe(413)
    expect(overBinary.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' })
    expect(overJson.statusCode).toBe(413)
  })

  it('defaults to 64 MiB for /v1/sum only: 8M values pass, one more does not, sum-of-squares keeps 1 MiB', async () => {
    const app = await buildTestApp()
    const values = new Float64Array(8 * 1024 * 1024).fill(0.5)
    const full = Buffer.from(values.buffer)
    const ok = await app.inject({ method: 'POST', url: '/v1/sum', headers: binary, payload: full })
    const over = await app.inject({ method: 'POST', url: '/v1/sum', headers: binary, payload: Buffer.concat([full, Buffer.alloc(8)]) })
    const other = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: JSON.stringify({ end: 5, pad: 'x'.repeat(1024 * 1024) }) })
    await app.close()
    expect(ok.json()).toMatchObject({ sum: 4 * 1024 * 1024, count: 8 * 1024 * 1024, chunks: 2 })
    expect(over.statusCode).toBe(413)
    expect(other.statusCode).toBe(413)
  })
})

describe('with EXECUTOR=inline', () => {
  it('sums the same shared memory on the event loop, with the same result', async () => {
    const app = await buildTestApp({ EXECUTOR: 'inline' })
    const values = randomValues(1_100_000)
    const response = await app.inject({ method: 'POST', url: '/v1/sum', headers: binary, payload: float64Bytes(values) })
    await app.close()
    expect(response.json()).toMatchObject({ sum: sumPrecise(values), chunks: 2 })
  })
})
