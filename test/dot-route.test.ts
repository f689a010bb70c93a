import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dotPrecise, MIN_PAIRS_PER_CHUNK } from '../src/compute/dot.js'
import type { ExecutorEvent } from '../src/executor/executor.js'
import { fromBits, generateInput, toBits, type GeneratedKind } from './fixtures/generated-inputs.js'
import { buildTestApp, json } from './helper.js'
import { float64Bytes, randomValues } from './support/float64.js'

const binary = { 'content-type': 'application/octet-stream' }
/** Python fractions' answers (test/fixtures/dot-vectors.py): IEEE bits in hex, or "overflow". */
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/dot-vectors.json', import.meta.url), 'utf8')) as {
  vectors: Array<{ name: string, x: string[], y: string[], expected: string }>
  generated: Array<{ x: { kind: GeneratedKind, seed: number }, y: { kind: GeneratedKind, seed: number }, count: number, expected: string }>
}
const MAX = Number.MAX_VALUE

describe('POST /v1/dot', () => {
  let app: FastifyInstance
  const events: ExecutorEvent[] = []
  beforeAll(async () => {
    app = await buildTestApp()
    app.executor.on((event) => events.push(event))
  })
  afterAll(async () => { await app.close() })

  const post = (payload: string | Buffer | object, headers: Record<string, string> = json, query = '') =>
    app.inject({ method: 'POST', url: `/v1/dot${query}`, headers, payload: typeof payload === 'object' && !Buffer.isBuffer(payload) ? JSON.stringify(payload) : payload })

  describe('answers with the exact dot product by default', () => {
    it('returns the documented body for JSON input', async () => {
      const response = await post({ x: [1, 2, 3], y: [4, 5, 6] })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ dot: 32, count: 3, mode: 'exact', chunks: 1, elapsedMs: expect.any(Number) })
      expect(response.headers['server-timing']).toMatch(/^kernel;dur=[\d.]+, total;dur=[\d.]+$/)
    })

    it('multiplies binary input, x then y, exactly where float64 products overflow', async () => {
      const response = await post(float64Bytes([1e200, 1e200, 3], [1e200, -1e200, 0.5]), binary)
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ dot: 1.5, count: 3, mode: 'exact', chunks: 1 })
    })

    it('keeps products below the smallest subnormal', async () => {
      const response = await post({ x: [2 ** -538, 2 ** -538], y: [2 ** -537, 2 ** -537] })
      expect(response.json()).toMatchObject({ dot: Number.MIN_VALUE })
    })

    it('answers 0 for empty vectors, without a task', async () => {
      expect((await post({ x: [], y: [] })).json()).toMatchObject({ dot: 0, count: 0, chunks: 0 })
      expect((await post(Buffer.alloc(0), binary)).json()).toMatchObject({ dot: 0, count: 0, chunks: 0 })
    })

    it('gives the same answer for the same numbers sent as JSON or binary', async () => {
      const x = Array.from(randomValues(5000))
      const y = Array.from(randomValues(5000))
      const fromJson = (await post({ x, y })).json()
      const fromBinary = (await post(float64Bytes(x, y), binary)).json()
      expect(fromJson.dot).toBe(fromBinary.dot)
      expect(fromJson.dot).toBe(dotPrecise(Float64Array.from(x), Float64Array.from(y)))
    })

    it('splits large inputs over the pool and gives the single-chunk result', async () => {
      const count = 2 * MIN_PAIRS_PER_CHUNK + 17
      const x = randomValues(count)
      const y = randomValues(count)
      // A few products far beyond float64, so that the chunks' states must carry them.
      x[5] = 1e250; y[5] = 1e250; x[count - 5] = 1e250; y[count - 5] = -1e250
      const reply = (await post(float64Bytes(x, y), binary)).json()
      expect(reply).toMatchObject({ dot: dotPrecise(x, y), count, chunks: 2 })
      const [smallX, smallY] = [x.subarray(10, 1010), y.subarray(10, 1010)]
      expect((await post(float64Bytes(smallX, smallY), binary)).json()).toMatchObject({ dot: dotPrecise(smallX, smallY), chunks: 1 })
    })
  })

  describe('equals Python fractions\' correctly rounded answer, through the whole service', () => {
    it('on every short fixture vector, sent as binary (422 where the exact result overflows)', async () => {
      for (const vector of fixtures.vectors) {
        const response = await post(float64Bytes(vector.x.map(fromBits), vector.y.map(fromBits)), binary)
        if (vector.expected === 'overflow') expect(response.statusCode, vector.name).toBe(422)
        // JSON has no -0 (JSON.stringify(-0) is "0"): adding 0 turns an expected -0 into 0.
        else expect(toBits(response.json().dot), vector.name).toBe(toBits(fromBits(vector.expected) + 0))
      }
    })

    it('on a long cancelling input split over the pool', async () => {
      const vector = fixtures.generated.find((generated) => generated.x.kind === 'cancelling')!
      const x = generateInput(vector.x.kind, vector.x.seed, vector.count)
      const y = generateInput(vector.y.kind, vector.y.seed, vector.count)
      const reply = (await post(float64Bytes(x, y), binary)).json()
      expect(reply.chunks).toBe(2)
      expect(toBits(reply.dot)).toBe(vector.expected)
    })
  })

  describe('mode=fast', () => {
    it('is the plain float64 loop: inexact', async () => {
      const payload = { x: [1e16, 1, -1e16], y: [1, 1, 1] }
      expect((await post(payload, json, '?mode=fast')).json()).toMatchObject({ dot: 0, mode: 'fast' })
      expect((await post(payload)).json()).toMatchObject({ dot: 1, mode: 'exact' })
    })
  })

  describe('answers 400 for a body or query it cannot read', () => {
    it('x and y of different lengths, naming y', async () => {
      const response = await post({ x: [1, 2, 3], y: [1, 2] })
      expect(response.statusCode).toBe(400)
      expect(response.json().issues).toEqual([{ path: 'body.y', message: 'y must have as many numbers as x' }])
    })

    it.each([
      ['a missing y', { x: [1] }, 'body.y'],
      ['x not an array', { x: 5, y: [1] }, 'body.x'],
      ['a string among the numbers', { x: [1, '2'], y: [1, 2] }, 'body.x.1'],
      ['an unknown field', { x: [1], y: [1], z: [1] }, 'body']
    ])('JSON body with %s', async (_name, payload, path) => {
      const response = await post(payload)
      expect(response.statusCode).toBe(400)
      expect(response.json().issues.map((issue: { path: string }) => issue.path)).toContain(path)
    })

    it('a JSON number beyond the float64 range, naming its index', async () => {
      const response = await post('{"x": [1, 2], "y": [3, 1e999]}')
      expect(response.statusCode).toBe(400)
      expect(response.json().issues).toEqual([{ path: 'body.y.1', message: expect.stringMatching(/Infinity/) }])
    })

    it.each([8, 24, 16 * 3 + 8])('a binary body of %d bytes, not whole pairs of float64s', async (bytes) => {
      const response = await post(Buffer.alloc(bytes), binary)
      expect(response.statusCode).toBe(400)
      expect(response.json().message).toBe(`An application/octet-stream body must be two float64 vectors of equal length, x then y, but ${bytes} bytes is not a multiple of 16`)
    })

    it('query mode=slow', async () => {
      const response = await post({ x: [1], y: [1] }, json, '?mode=slow')
      expect(response.statusCode).toBe(400)
      expect(response.json().issues.map((issue: { path: string }) => issue.path)).toContain('querystring.mode')
    })
  })

  it('answers 415 for anything but JSON and octet-stream, naming both', async () => {
    const response = await post('1 2 3', { 'content-type': 'text/plain' })
    expect(response.statusCode).toBe(415)
    expect(response.json()).toMatchObject({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'Content-Type text/plain is not accepted: send application/json or application/octet-stream'
    })
  })

  describe('answers 422 for inputs or results that are not finite numbers', () => {
    it.each([
      ['x[2] is NaN', [1, 2, NaN], [1, 2, 3], 'x[2] is NaN'],
      ['y[1] is Infinity', [1, 2, 3], [1, Infinity, 3], 'y[1] is Infinity'],
      ['both at one index: x first', [1, -Infinity], [1, NaN], 'x[1] is -Infinity'],
      ['the first index wins over x', [1, 2, NaN], [1, -Infinity, 3], 'y[1] is -Infinity']
    ])('binary input where %s', async (_name, x, y, what) => {
      for (const query of ['', '?mode=fast']) {
        const response = await post(float64Bytes(x, y), binary, query)
        expect(response.statusCode).toBe(422)
        expect(response.json()).toMatchObject({ statusCode: 422, error: 'Unprocessable Entity', message: `${what}: only finite numbers are accepted` })
      }
    })

    it('names the first index of the whole input, in whichever chunk it lies', async () => {
      const count = 2 * MIN_PAIRS_PER_CHUNK + 1
      const x = randomValues(count)
      const y = randomValues(count)
      y[count - 10] = NaN
      x[count - 5] = Infinity
      for (const query of ['', '?mode=fast']) {
        const inLaterChunk = await post(float64Bytes(x, y), binary, query)
        expect(inLaterChunk.json().message).toBe(`y[${count - 10}] is NaN: only finite numbers are accepted`)
      }
      x[100] = -Infinity
      for (const query of ['', '?mode=fast']) {
        const inBoth = await post(float64Bytes(x, y), binary, query)
        expect(inBoth.json().message).toBe('x[100] is -Infinity: only finite numbers are accepted')
      }
    })

    it('a dot product beyond the largest double', async () => {
      const response = await post({ x: [MAX, 1], y: [2, 1] })
      expect(response.statusCode).toBe(422)
      expect(response.json().message).toBe('The dot product overflows float64: its exact value rounds beyond the largest double')
      expect((await post({ x: [1e200], y: [-1e200] }, json, '?mode=fast')).statusCode).toBe(422)
    })

    it('in fast mode, a product that overflows although the exact result does not', async () => {
      const payload = { x: [1e200, 1e200], y: [1e200, -1e200] }
      const fast = await post(payload, json, '?mode=fast')
      expect(fast.statusCode).toBe(422)
      expect(fast.json().message).toMatch(/^The dot product overflows float64: the float64 running sum reached Infinity/)
      expect((await post(payload)).json()).toMatchObject({ dot: 0 })
    })
  })

  it('stays up with the pool at full strength after every one of those errors', async () => {
    const count = 2 * MIN_PAIRS_PER_CHUNK
    const response = await post(float64Bytes(randomValues(count), randomValues(count)), binary)
    expect(response.json().chunks).toBe(2)
    expect(app.executor.stats()).toMatchObject({ threads: 2, queued: 0, running: 0 })
    expect(events.filter((event) => event.type !== 'task-settled' || event.status !== 'completed')).toEqual([])
  })
})

describe('POST /v1/dot with BODY_LIMIT_BYTES', () => {
  it('answers 413 past the limit, for binary and JSON alike, and accepts a body of exactly the limit', async () => {
    const app = await buildTestApp({ BODY_LIMIT_BYTES: '1024' })
    const post = (payload: Buffer | string, headers: Record<string, string>) => app.inject({ method: 'POST', url: '/v1/dot', headers, payload })
    const atLimit = await post(Buffer.alloc(1024), binary)
    const overBinary = await post(Buffer.alloc(1040), binary)
    const overJson = await post(JSON.stringify({ x: new Array(300).fill(1), y: new Array(300).fill(1) }), json)
    await app.close()
    expect(atLimit.json()).toMatchObject({ dot: 0, count: 64 })
    expect(overBinary.statusCode).toBe(413)
    expect(overBinary.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' })
    expect(overJson.statusCode).toBe(413)
  })
})

describe('POST /v1/dot with EXECUTOR=inline', () => {
  it('multiplies the same shared memory on the event loop, with the same result', async () => {
    const app = await buildTestApp({ EXECUTOR: 'inline' })
    const count = 2 * MIN_PAIRS_PER_CHUNK + 1
    const x = randomValues(count)
    const y = randomValues(count)
    const response = await app.inject({ method: 'POST', url: '/v1/dot', headers: binary, payload: float64Bytes(x, y) })
    await app.close()
    expect(response.json()).toMatchObject({ dot: dotPrecise(x, y), chunks: 2 })
  })
})

describe('POST /v1/dot, bounded validation errors', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp() })
  afterAll(async () => { await app.close() })

  it('answers x and y of 150,000 bad items each with the first 10 issues and a count of the rest, in a few KiB', async () => {
    const bad = new Array(150_000).fill('[]').join(',')
    const response = await app.inject({ method: 'POST', url: '/v1/dot', headers: json, payload: `{"x":[${bad}],"y":[${bad}]}` })
    expect(response.statusCode).toBe(400)
    expect(response.body.length).toBeLessThan(4096)
    const answer = response.json()
    expect(answer.issues).toHaveLength(10)
    expect(answer.issues[0]).toEqual({ path: 'body.x.0', message: 'Invalid input: expected number, received array' })
    expect(answer.issues[9].path).toBe('body.x.9')
    expect(answer.moreIssues).toBe(2 * 150_000 - 10)
  })

  it('does not compare the lengths of vectors that are not lists of numbers', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/dot', headers: json, payload: '{"x":[1,2,3],"y":[1,null]}' })
    expect(response.json().issues).toEqual([{ path: 'body.y.1', message: 'Invalid input: expected number, received null' }])
  })
})

describe('POST /v1/dot with API_KEYS', () => {
  it('answers 401 without the key and the dot product with it', async () => {
    const key = 'dot-key-0123456789abcdef'
    const app = await buildTestApp({ API_KEYS: key })
    const payload = JSON.stringify({ x: [1, 2], y: [3, 4] })
    const refused = await app.inject({ method: 'POST', url: '/v1/dot', headers: json, payload })
    const served = await app.inject({ method: 'POST', url: '/v1/dot', headers: { ...json, authorization: `Bearer ${key}` }, payload })
    await app.close()
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toMatchObject({ statusCode: 401, error: 'Unauthorized' })
    expect(served.json()).toMatchObject({ dot: 11 })
  })
})

describe('POST /v1/dot in the OpenAPI document', () => {
  it('is the compute operation `dot`, taking JSON or binary, with an example for each answer', async () => {
    const app = await buildTestApp()
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    await app.close()
    const operation = doc.paths['/v1/dot'].post
    expect(operation).toMatchObject({ operationId: 'dot', tags: ['compute'] })
    expect(Object.keys(operation.requestBody.content)).toEqual(['application/json', 'application/octet-stream'])
    expect(operation.parameters).toEqual(expect.arrayContaining([expect.objectContaining({ in: 'query', name: 'mode' })]))
    expect(operation.responses['422'].content['application/problem+json'].example).toMatchObject({ status: 422, statusCode: 422 })
    expect(operation.responses['422'].content['application/problem+json'].schema.allOf[1].properties.code.enum).toEqual(['SVC_NON_FINITE_VALUE', 'SVC_FLOAT64_OVERFLOW'])
    expect(operation.responses['400'].content['application/problem+json'].schema.allOf[1].properties.code.enum).toContain('SVC_BINARY_LENGTH')
    expect(operation.responses['200'].content['application/json'].example).toMatchObject({ mode: 'exact', count: 3 })
  })
})
