import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../src/platform/config.js'
import { buildTestApp, json } from './helper.js'

const APP = 'https://app.example.com'
const KEY = 'cors-key-0123456789abcdef'

const preflight = (app: FastifyInstance, origin: string, method = 'POST') => app.inject({
  method: 'OPTIONS',
  url: '/v1/sum-of-squares',
  headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' }
})

describe('CORS', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => { await app?.close() })

  it('is off by default: no CORS headers, and a preflight is a 405 naming the methods', async () => {
    app = await buildTestApp()
    const refused = await preflight(app, APP)
    expect([refused.statusCode, refused.headers.allow, refused.headers['access-control-allow-origin']]).toEqual([405, 'POST', undefined])
    const answer = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, origin: APP }, payload: { end: 10 } })
    expect([answer.statusCode, answer.headers['access-control-allow-origin']]).toEqual([200, undefined])
  })

  it('answers a listed origin\'s preflight before the API key is checked, with the headers a page may send', async () => {
    app = await buildTestApp({ CORS_ORIGINS: `${APP}, https://other.example.com`, API_KEYS: KEY })
    const allowed = await preflight(app, APP)
    expect(allowed.statusCode).toBe(204)
    expect(allowed.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, HEAD, POST, DELETE',
      'access-control-allow-headers': 'authorization, content-type, x-request-id, x-timeout-ms',
      'access-control-max-age': '600'
    })
    expect(allowed.headers['access-control-allow-credentials']).toBeUndefined()
    const stranger = await preflight(app, 'https://evil.example.com')
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('lets a page read the headers of an answer, an error\'s included', async () => {
    app = await buildTestApp({ CORS_ORIGINS: APP, API_KEYS: KEY, RATE_LIMIT_MAX: '1' })
    const served = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, origin: APP, authorization: `Bearer ${KEY}` }, payload: { end: 10 } })
    expect([served.statusCode, served.headers['access-control-allow-origin']]).toEqual([200, APP])
    expect(String(served.headers['access-control-expose-headers']).split(', ')).toEqual(expect.arrayContaining(['retry-after', 'server-timing', 'x-request-id', 'location', 'ratelimit-remaining']))
    const limited = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, origin: APP, authorization: `Bearer ${KEY}` }, payload: { end: 10 } })
    expect([limited.statusCode, limited.headers['access-control-allow-origin'], limited.json().code]).toEqual([429, APP, 'SVC_RATE_LIMITED'])
    const unauthorized = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, origin: APP }, payload: { end: 10 } })
    expect([unauthorized.statusCode, unauthorized.headers['access-control-allow-origin']]).toEqual([401, APP])
  })

  it('adds OPTIONS to a 405\'s Allow once preflights are answered', async () => {
    app = await buildTestApp({ CORS_ORIGINS: '*' })
    const wrong = await app.inject({ method: 'GET', url: '/v1/sum-of-squares', headers: { origin: APP } })
    expect([wrong.statusCode, wrong.headers.allow, wrong.headers['access-control-allow-origin']]).toEqual([405, 'OPTIONS, POST', '*'])
  })

  it('takes * or exact origins, and refuses anything else naming the variable', () => {
    expect(loadConfig({}).CORS_ORIGINS).toBeUndefined()
    expect(loadConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toBe('*')
    expect(loadConfig({ CORS_ORIGINS: `${APP}, http://localhost:5173` }).CORS_ORIGINS).toEqual([APP, 'http://localhost:5173'])
    expect(() => loadConfig({ CORS_ORIGINS: `${APP}/page` })).toThrow(/CORS_ORIGINS=.*https:\/\/app\.example\.com\/page: expected \* or origins/)
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example.com' })).toThrow(/CORS_ORIGINS=/)
  })
})
