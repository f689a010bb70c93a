import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiKeyDigest } from '../src/clients/client-identity.js'
import { loggerOptions } from '../src/platform/logger.js'
import { startServer } from './support/server-process.js'
import { buildTestApp, json } from './helper.js'

const KEY = 'alpha-key-0123456789abcdef'

/** Every JSON line the app logs, parsed. */
function logCapture () {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
  return { lines, logger: { ...(loggerOptions('info', false) as object), stream } }
}

describe('the access line (LOG_LEVEL=info)', () => {
  let app: FastifyInstance
  const logs = logCapture()
  beforeAll(async () => {
    app = await buildTestApp({ API_KEYS: KEY, RATE_LIMIT_MAX: '1000', ENABLE_TEST_FAULTS: 'true' }, { logger: logs.logger })
  })
  afterAll(async () => { await app.close() })

  /** The access lines logged for one request, by its id. */
  const linesOf = (requestId: string) => logs.lines.filter((line) => line.reqId === requestId && line.msg === 'request completed')

  it('is one line per compute request, with route, status, duration, kernel time, chunks and the key digest', async () => {
    const response = await app.inject({
      method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, authorization: `Bearer ${KEY}` }, payload: { end: 1_000_000, chunks: 2 }
    })
    expect(response.statusCode).toBe(200)
    const lines = linesOf(response.headers['x-request-id'] as string)
    expect(lines).toHaveLength(1)
    const kernelMs = Number(/kernel;dur=([\d.]+)/.exec(response.headers['server-timing'] as string)![1])
    expect(lines[0]).toEqual({
      level: 30,
      time: expect.any(Number),
      pid: process.pid,
      hostname: expect.any(String),
      reqId: response.headers['x-request-id'],
      method: 'POST',
      route: '/v1/sum-of-squares',
      statusCode: 200,
      remoteAddress: '127.0.0.1',
      durationMs: expect.any(Number),
      kernelMs: expect.closeTo(kernelMs, 3),
      chunks: 2,
      apiKey: apiKeyDigest(`Bearer ${KEY}`),
      msg: 'request completed'
    })
    expect(lines[0]!.durationMs).toBeGreaterThanOrEqual(lines[0]!.kernelMs as number / 2)
  })

  it('names the client by a digest that never contains the key, for a wrong key too', async () => {
    const wrong = 'wrong-key-0123456789abcdef'
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, authorization: `Bearer ${wrong}` }, payload: { end: 10 } })
    expect(response.statusCode).toBe(401)
    const [line] = linesOf(response.headers['x-request-id'] as string)
    expect(line).toMatchObject({ statusCode: 401, apiKey: expect.stringMatching(/^[\w-]{22}$/) })
    expect(line!.apiKey).not.toBe(apiKeyDigest(`Bearer ${KEY}`))
    const text = JSON.stringify(logs.lines)
    for (const key of [KEY, wrong]) expect(text).not.toContain(key.slice(0, 9))
  })

  it('says why the tasks of a request that ran out of time were aborted', async () => {
    const response = await app.inject({
      method: 'POST', url: '/v1/test-fault', headers: { ...json, authorization: `Bearer ${KEY}`, 'x-timeout-ms': '50' }, payload: { kind: 'spin', ms: 5000 }
    })
    expect(response.statusCode).toBe(504)
    const access = linesOf(response.headers['x-request-id'] as string)
    expect(access).toEqual([expect.objectContaining({ route: '/v1/test-fault', statusCode: 504, abortReason: 'deadline' })])
    expect(access[0]).not.toHaveProperty('kernelMs')
  })

  it('gives a request that matched no route the route "unmatched" and its path', async () => {
    const response = await app.inject({ method: 'GET', url: '/no/such/thing?secret=1' })
    expect(linesOf(response.headers['x-request-id'] as string)).toEqual([
      expect.objectContaining({ method: 'GET', route: 'unmatched', url: '/no/such/thing', statusCode: 404 })
    ])
  })

  it('stays quiet for routes that machines poll: health, probe and metrics', async () => {
    for (const url of ['/health/live', '/health/ready', '/probe', '/metrics']) {
      const response = await app.inject({ method: 'GET', url })
      expect(response.statusCode, url).toBe(200)
      expect(linesOf(response.headers['x-request-id'] as string), url).toEqual([])
    }
  })

  it('replaces Fastify\'s own request lines (the incoming one stays, at debug)', () => {
    expect(logs.lines.filter((line) => line.msg === 'incoming request')).toEqual([])
    expect(logs.lines.filter((line) => line.msg === 'request completed' && 'res' in line)).toEqual([])
  })
})

describe('at LOG_LEVEL=debug', () => {
  it('also writes Fastify\'s incoming request line, so a request that never finished can be found', async () => {
    const logs = logCapture()
    const app = await buildTestApp({}, { logger: { ...logs.logger, level: 'debug' } })
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 } })
    await app.close()
    const lines = logs.lines.filter((line) => line.reqId === response.headers['x-request-id'])
    expect(lines.map((line) => line.msg)).toEqual(expect.arrayContaining(['incoming request', 'request completed']))
    expect(lines.find((line) => line.msg === 'incoming request')).toMatchObject({ level: 20, req: { method: 'POST', url: '/v1/sum-of-squares' } })
  })
})

describe('the access line below info', () => {
  it('is not written at LOG_LEVEL=warn', async () => {
    const logs = logCapture()
    const app = await buildTestApp({}, { logger: { ...logs.logger, level: 'warn' } })
    await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 } })
    await app.close()
    expect(logs.lines).toEqual([])
  })
})

describe('the asynchronous log destination (real process)', () => {
  it('writes a lone request\'s line within about a second, though it fills no 4 KiB buffer', async () => {
    const server = await startServer({ LOG_LEVEL: 'info' })
    try {
      const response = await fetch(`${server.url}/v1/sum-of-squares`, { method: 'POST', headers: { ...json, 'x-request-id': 'lone-request' }, body: '{"end":10}' })
      expect(response.status).toBe(200)
      const sent = Date.now()
      while (!server.logs.some((line) => line.reqId === 'lone-request') && Date.now() - sent < 3000) await new Promise((resolve) => setTimeout(resolve, 50))
      expect(server.logs.find((line) => line.reqId === 'lone-request')).toMatchObject({ msg: 'request completed', statusCode: 200 })
      expect(Date.now() - sent).toBeLessThan(2000)
    } finally {
      await server.stop()
    }
  })

  it('loses no access line on SIGTERM: every request that got an answer has its line, written before the exit', async () => {
    const server = await startServer({ LOG_LEVEL: 'info', POOL_THREADS: '2' })
    const answered: string[] = []
    // Eight clients keep small requests going until the listener closes: requests are in flight at SIGTERM.
    const client = async () => {
      for (;;) {
        try {
          const response = await fetch(`${server.url}/v1/sum-of-squares`, { method: 'POST', headers: json, body: '{"end":1000}' })
          await response.arrayBuffer()
          answered.push(response.headers.get('x-request-id')!)
        } catch {
          return // the listener has closed
        }
      }
    }
    const clients = Array.from({ length: 8 }, client)
    while (answered.length < 2000) await new Promise((resolve) => setTimeout(resolve, 20))
    server.child.kill('SIGTERM')
    await Promise.all(clients)
    expect(await server.exited).toEqual({ code: 0, signal: null })

    const logged = new Set(server.logs.filter((line) => line.msg === 'request completed').map((line) => line.reqId))
    expect(answered.length).toBeGreaterThan(2000)
    expect(answered.filter((id) => !logged.has(id))).toEqual([])
    expect(server.logs.at(-1)).toMatchObject({ msg: 'closed' })
  })
})
