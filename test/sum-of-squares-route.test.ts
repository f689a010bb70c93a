import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, closedForm, json } from './helper.js'

const MAX = Number.MAX_SAFE_INTEGER

describe('POST /v1/sum-of-squares', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp({ MAX_TERMS: '100000000' }) })
  afterAll(async () => { await app.close() })

  const post = (payload: unknown, headers: Record<string, string> = json) =>
    app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) })

  describe('answers exactly', () => {
    it('returns the documented body, start defaulting to 0', async () => {
      const response = await post({ end: 10 })
      expect(response.statusCode).toBe(200)
      expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
      const body = response.json()
      expect(body).toEqual({ result: '285', start: 0, end: 10, terms: 10, chunks: 1, elapsedMs: expect.any(Number) })
    })

    it.each([
      [-7, 3, undefined],
      [-1_000_000, -999_000, 3],
      [MAX - 10_000, MAX, 7],
      [-MAX, -MAX + 10_000, 256],
      [2 ** 26 - 1000, 2 ** 26 + 1001, 9],
      [12, 12, 4],
      [0, 100_000_000, undefined]
    ])('from %d to %d in %s chunks', async (start, end, chunks) => {
      const response = await post({ start, end, chunks })
      expect(response.statusCode).toBe(200)
      expect(response.json().result).toBe(closedForm(start, end).toString())
    })

    it('splits into exactly the chunks asked for, even when they do not divide the range', async () => {
      const response = await post({ start: 1, end: 1002, chunks: 7 })
      expect(response.json()).toMatchObject({ result: closedForm(1, 1002).toString(), chunks: 7, terms: 1001 })
    })

    it('never splits a range into more chunks than it has terms', async () => {
      expect((await post({ start: 0, end: 3, chunks: 100 })).json()).toMatchObject({ result: '5', chunks: 3 })
    })

    it('keeps a small range whole and spreads a large one over every thread when chunks is omitted', async () => {
      expect((await post({ end: 1000 })).json().chunks).toBe(1)
      expect((await post({ end: 100_000_000 })).json().chunks).toBe(2)
    })

    it('reports the kernel time and the handler time in a Server-Timing header', async () => {
      const response = await post({ end: 3_000_000, chunks: 2 })
      const header = String(response.headers['server-timing'])
      const match = /^kernel;dur=(\d+\.\d{4}), total;dur=([\d.]+)$/.exec(header)
      expect(match, header).not.toBeNull()
      const [kernel, total] = [Number(match![1]), Number(match![2])]
      expect(kernel).toBeGreaterThan(0)
      expect(total).toBe(response.json().elapsedMs)
    })

    it('returns results beyond 2^53 as exact strings', async () => {
      const response = await post({ start: MAX - 2, end: MAX })
      expect(response.json().result).toBe((BigInt(MAX - 2) ** 2n + BigInt(MAX - 1) ** 2n).toString())
    })
  })

  describe('rejects bad requests with 400 in the error shape', () => {
    it.each([
      ['a missing end', { start: 1 }, 'body.end'],
      ['a string for a number', { end: '5' }, 'body.end'],
      ['a non-integer', { end: 5.5 }, 'body.end'],
      ['an unsafe integer', { end: 2 ** 53 }, 'body.end'],
      ['end below start', { start: 5, end: 4 }, 'body.end'],
      ['a range over MAX_TERMS', { start: -1, end: 100_000_000 }, 'body.end'],
      ['chunks of 0', { end: 5, chunks: 0 }, 'body.chunks'],
      ['chunks over 256', { end: 5000, chunks: 257 }, 'body.chunks'],
      ['an unknown field', { end: 5, stop: 6 }, 'body'],
      ['an array body', [1, 2], 'body'],
      ['a null body', null, 'body']
    ])('%s', async (_name, payload, path) => {
      const response = await post(payload)
      expect(response.statusCode).toBe(400)
      const body = response.json()
      expect(body).toMatchObject({ statusCode: 400, error: 'Bad Request', requestId: response.headers['x-request-id'] })
      expect(body.issues.map((issue: { path: string }) => issue.path)).toContain(path)
    })

    it('malformed JSON', async () => {
      const response = await post('{"end": 5')
      expect(response.statusCode).toBe(400)
      expect(response.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.stringMatching(/JSON/) })
    })

    it('an empty body', async () => {
      const response = await post('')
      expect(response.statusCode).toBe(400)
      expect(response.json().error).toBe('Bad Request')
    })

    it('a __proto__ key', async () => {
      const response = await post('{"end": 5, "__proto__": {"x": 1}}')
      expect(response.statusCode).toBe(400)
    })
  })

  it('rejects a non-JSON content type with 415', async () => {
    const response = await post('end=5', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(response.statusCode).toBe(415)
    expect(response.json()).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type', requestId: expect.any(String) })
  })

  it('rejects a body over the limit with 413', async () => {
    const response = await post(JSON.stringify({ end: 5, pad: 'x'.repeat(2 * 1024 * 1024) }))
    expect(response.statusCode).toBe(413)
    expect(response.json()).toMatchObject({ statusCode: 413, error: 'Payload Too Large' })
  })
})

describe('unknown routes', () => {
  it('answer 404 in the error shape', async () => {
    const app = await buildTestApp()
    const response = await app.inject({ method: 'GET', url: '/v2/nothing?x=1' })
    await app.close()
    expect(response.statusCode).toBe(404)
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(response.json()).toEqual({
      type: 'https://compute-service.dev/problems/route-not-found',
      title: 'No such route',
      status: 404,
      detail: 'Route GET /v2/nothing not found',
      instance: '/v2/nothing',
      code: 'SVC_ROUTE_NOT_FOUND',
      requestId: response.headers['x-request-id'],
      statusCode: 404,
      error: 'Not Found',
      message: 'Route GET /v2/nothing not found'
    })
  })
})

describe('request ids', () => {
  it('keeps a plain caller-supplied X-Request-Id and replaces an unsafe one', async () => {
    const app = await buildTestApp()
    const kept = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'trace-42' } })
    const replaced = await app.inject({ method: 'GET', url: '/nope', headers: { 'x-request-id': 'bad id\nwith newline' } })
    await app.close()
    expect(kept.headers['x-request-id']).toBe('trace-42')
    expect(kept.json().requestId).toBe('trace-42')
    expect(replaced.json().requestId).toMatch(/^[0-9a-f-]{36}$/)
  })
})
