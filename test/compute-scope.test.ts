import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { Cancellation } from '../src/executor/cancellation.js'
import type { ComputeRoute } from '../src/plugins/compute-scope.js'
import { buildTestApp, json } from './helper.js'

const KEY = 'alpha-key-0123456789abcdef'

/** A route added to the compute scope with no options of its own: it waits for its signal, or answers at once. */
const throwaway: ComputeRoute = async (app) => {
  app.get('/v1/throwaway', async (request) => {
    const { wait } = request.query as { wait?: string }
    // The decorator starts at null: only the scope's own hook makes a live signal.
    if (wait === undefined) return { ok: true, hasSignal: request.computeSignal instanceof Cancellation && !request.computeSignal.aborted }
    await new Promise((resolve) => request.computeSignal.once('abort', resolve))
    throw request.computeSignal.reason
  })
}

describe('the compute scope', () => {
  let app: FastifyInstance
  afterEach(async () => { await app.close() })

  it('guards a route registered in it without any option: 401 without a key, 200 with one', async () => {
    app = await buildTestApp({ API_KEYS: KEY }, { computeRoutes: [throwaway] })
    const refused = await app.inject({ method: 'GET', url: '/v1/throwaway' })
    expect(refused.statusCode).toBe(401)
    expect(refused.json()).toMatchObject({ statusCode: 401, requestId: expect.any(String) })
    const served = await app.inject({ method: 'GET', url: '/v1/throwaway', headers: { authorization: `Bearer ${KEY}` } })
    expect(served.json()).toEqual({ ok: true, hasSignal: true })
  })

  it('rate-limits it, and gives it a deadline that answers 504', async () => {
    app = await buildTestApp({ RATE_LIMIT_MAX: '2' }, { computeRoutes: [throwaway] })
    const timedOut = await app.inject({ method: 'GET', url: '/v1/throwaway?wait=1', headers: { 'x-timeout-ms': '50' } })
    expect(timedOut.statusCode).toBe(504)
    expect((await app.inject({ method: 'GET', url: '/v1/throwaway' })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: '/v1/throwaway' })).statusCode).toBe(429)
  })

  it('leaves every route outside it unguarded', async () => {
    app = await buildTestApp({ API_KEYS: KEY, RATE_LIMIT_MAX: '1' }, { computeRoutes: [throwaway] })
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: '/probe' })).statusCode).toBe(200)
  })

  it('documents its routes with every guard\'s error statuses, 504 included, and their API key', async () => {
    app = await buildTestApp({ API_KEYS: KEY })
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    for (const path of ['/v1/sum-of-squares', '/v1/sum', '/v1/dot']) {
      const operation = doc.paths[path].post
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '413', '415', '429', '500', '503', '504']))
      expect(operation.security).toEqual([{ bearerAuth: [] }])
    }
    expect(doc.paths['/probe'].get.security).toBeUndefined()
  })
})

describe('bodies a compute route does not take', () => {
  let app: FastifyInstance
  afterEach(async () => { await app.close() })

  it.each([
    ['text/plain', '{"end": 10}'],
    ['application/x-www-form-urlencoded', 'end=10'],
    ['application/octet-stream', Buffer.alloc(16)]
  ])('answers 415 to %s on POST /v1/sum-of-squares, naming JSON', async (type, payload) => {
    app = await buildTestApp()
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { 'content-type': type }, payload })
    expect(response.statusCode).toBe(415)
    expect(response.json()).toMatchObject({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: `Content-Type ${type} is not accepted: send application/json`,
      requestId: expect.any(String)
    })
  })

  it('still answers JSON on the same route', async () => {
    app = await buildTestApp()
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 } })
    expect(response.json().result).toBe('285')
  })
})
