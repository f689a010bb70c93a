import { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions } from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loggerOptions } from '../src/platform/logger.js'
import { buildTestApp, json } from './helper.js'

const KEYS = ['alpha-key-0123456789abcdef', 'bravo-key-0123456789abcdef']
const WRONG = 'wrong-key-0123456789abcdef'
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
const compute = (headers: Record<string, string> = {}, extra: Partial<InjectOptions> = {}): InjectOptions =>
  ({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, ...headers }, payload: { end: 10 }, ...extra })
const OPEN_ROUTES = ['/probe', '/health/live', '/health/ready', '/metrics', '/openapi.json', '/docs/']

/** Collects every log line the app writes. */
function logCapture () {
  const lines: string[] = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
  return { lines, logger: { ...(loggerOptions('trace', false) as object), stream } }
}

describe('API keys (API_KEYS set)', () => {
  let app: FastifyInstance
  const logs = logCapture()
  beforeAll(async () => { app = await buildTestApp({ API_KEYS: KEYS.join(',') }, { logger: logs.logger }) })
  afterAll(async () => { await app.close() })

  it('answers 401 in the error shape, with WWW-Authenticate, when the key is missing', async () => {
    const response = await app.inject(compute())
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer')
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8')
    expect(response.json()).toEqual({
      type: 'https://compute-service.dev/problems/unauthorized',
      title: 'A valid API key is required',
      status: 401,
      detail: 'A valid API key is required: send "Authorization: Bearer <key>"',
      instance: '/v1/sum-of-squares',
      code: 'SVC_UNAUTHORIZED',
      requestId: response.headers['x-request-id'],
      // Deprecated members, sent until LEGACY_MEMBERS_UNTIL (docs/api.md#errors).
      statusCode: 401,
      error: 'Unauthorized',
      message: 'A valid API key is required: send "Authorization: Bearer <key>"'
    })
  })

  it.each([
    ['a wrong key', `Bearer ${WRONG}`],
    ['a right key cut short', `Bearer ${KEYS[0]!.slice(0, -1)}`],
    ['a right key with more after it', `Bearer ${KEYS[0]}x`],
    ['another scheme', `Basic ${KEYS[0]}`],
    ['the scheme alone', 'Bearer']
  ])('answers 401 with the same message for %s', async (_case, authorization) => {
    const response = await app.inject(compute({ authorization }))
    expect(response.statusCode).toBe(401)
    expect(response.json().message).toBe('A valid API key is required: send "Authorization: Bearer <key>"')
  })

  it('checks the key before reading the body', async () => {
    const response = await app.inject(compute({}, { payload: '{"end": not json' }))
    expect(response.statusCode).toBe(401)
  })

  it.each(KEYS)('serves a request with the key %s', async (key) => {
    const response = await app.inject(compute(bearer(key)))
    expect(response.statusCode).toBe(200)
    expect(response.json().result).toBe('285')
  })

  it.each(OPEN_ROUTES)('leaves %s open', async (url) => {
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200)
  })

  it('never writes a key, right or wrong, to the log', async () => {
    await app.inject(compute(bearer(KEYS[0]!)))
    await app.inject(compute(bearer(KEYS[1]!)))
    await app.inject(compute(bearer(WRONG)))
    const text = logs.lines.join('')
    // The log did record these requests, including the rejected one.
    expect(text).toMatch(/"statusCode":401/)
    expect(text).toMatch(/"route":"\/v1\/sum-of-squares"/)
    for (const key of [...KEYS, WRONG]) expect(text).not.toContain(key.slice(0, 9))
  })
})

describe('the logger', () => {
  it('redacts the Authorization header of anything that logs request headers', () => {
    const lines: string[] = []
    const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
    const { level, redact } = loggerOptions('info', false) as { level: string, redact: pino.LoggerOptions['redact'] }
    pino({ level, redact }, stream).info({ req: { headers: bearer(KEYS[0]!) } }, 'request')
    expect(JSON.parse(lines[0]!).req.headers.authorization).toBe('[redacted]')
  })
})

describe('without API_KEYS', () => {
  it('serves compute routes without a key', async () => {
    const app = await buildTestApp()
    const response = await app.inject(compute())
    await app.close()
    expect(response.statusCode).toBe(200)
  })
})

describe('rate limit per IP address (RATE_LIMIT_MAX set, no keys)', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '60000' }) })
  afterAll(async () => { await app.close() })
  const from = (ip: string) => compute({}, { remoteAddress: ip })

  it('answers 429 with Retry-After in the error shape once a client is over the limit', async () => {
    const first = await app.inject(from('10.0.0.1'))
    expect(first.statusCode).toBe(200)
    expect([first.headers['ratelimit-limit'], first.headers['ratelimit-remaining']]).toEqual(['2', '1'])
    expect((await app.inject(from('10.0.0.1'))).statusCode).toBe(200)
    const limited = await app.inject(from('10.0.0.1'))
    expect(limited.statusCode).toBe(429)
    const retryAfter = Number(limited.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(60)
    expect(limited.json().message).toContain(`retry in ${retryAfter} s`)
    expect(limited.json()).toEqual({
      type: 'https://compute-service.dev/problems/rate-limited',
      title: 'Over the rate limit',
      status: 429,
      detail: expect.stringMatching(/^Rate limit exceeded: at most 2 requests per 60 s; retry in \d+ s$/),
      instance: '/v1/sum-of-squares',
      code: 'SVC_RATE_LIMITED',
      requestId: expect.any(String),
      statusCode: 429,
      error: 'Too Many Requests',
      message: limited.json().detail
    })
    // The IETF draft's fields, not the x- ones.
    expect([limited.headers['ratelimit-limit'], limited.headers['ratelimit-remaining'], limited.headers['x-ratelimit-limit']]).toEqual(['2', '0', undefined])
  })

  it('gives every other client a budget of its own', async () => {
    expect((await app.inject(from('10.0.0.2'))).statusCode).toBe(200)
  })

  it.each(OPEN_ROUTES)('never limits %s', async (url) => {
    for (let i = 0; i < 4; i++) {
      const response = await app.inject({ method: 'GET', url, remoteAddress: '10.0.0.1' })
      expect(response.statusCode).toBe(200)
      expect(response.headers['ratelimit-limit']).toBeUndefined()
    }
  })
})

describe('rate limit per API key (RATE_LIMIT_MAX and API_KEYS set)', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp({ RATE_LIMIT_MAX: '2', API_KEYS: KEYS.join(',') }) })
  afterAll(async () => { await app.close() })
  const status = async (key: string, ip: string) => (await app.inject(compute(bearer(key), { remoteAddress: ip }))).statusCode

  it('counts a key across addresses, and each key apart from the others on one address', async () => {
    expect(await status(KEYS[0]!, '10.0.0.1')).toBe(200)
    expect(await status(KEYS[0]!, '10.0.0.2')).toBe(200)
    expect(await status(KEYS[0]!, '10.0.0.3')).toBe(429)
    expect(await status(KEYS[1]!, '10.0.0.1')).toBe(200)
  })

  it('rejects requests without a valid key before they count against anyone', async () => {
    for (let i = 0; i < 3; i++) expect((await app.inject(compute(bearer(WRONG), { remoteAddress: '10.0.0.9' }))).statusCode).toBe(401)
    expect(await status(KEYS[1]!, '10.0.0.9')).toBe(200)
  })
})

describe('without RATE_LIMIT_MAX', () => {
  it('does not limit compute routes', async () => {
    const app = await buildTestApp({ POOL_MAX_QUEUE_MS: '60000' }) // 20 at once must not hit the queue bound either
    const responses = await Promise.all(Array.from({ length: 20 }, () => app.inject(compute())))
    await app.close()
    expect(responses.map((response) => response.statusCode)).toEqual(Array(20).fill(200))
    expect(responses[0]!.headers['ratelimit-limit']).toBeUndefined()
  })
})
