import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'
import { until } from './support/until.js'
import { buildTestApp, closedForm, json } from './helper.js'

const longRange = { start: 0, end: 2_000_000_000, chunks: 1 }
const post = (url: string, body: unknown) => fetch(`${url}/v1/sum-of-squares`, { method: 'POST', headers: json, body: JSON.stringify(body) })

/** Resolves once the server has taken in `count` compute requests (its `incoming request` lines, at debug). */
const accepted = (server: ServerProcess, count: number) => until(() => server.logs
  .filter((line) => line.msg === 'incoming request' && (line.req as { url?: string } | undefined)?.url === '/v1/sum-of-squares')
  .length === count)

describe('graceful shutdown', () => {
  it('while draining, reports not ready but still serves, closing each connection after its response', async () => {
    const app = await buildTestApp()
    app.drain()
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    const work = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 } })
    await app.close()
    expect(ready.statusCode).toBe(503)
    expect(ready.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/shutting down/), requestId: expect.any(String) })
    expect(work.statusCode).toBe(200)
    expect(work.headers.connection).toBe('close')
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal} finishes accepted requests, stops listening and exits 0`, async () => {
      // A grace period no loaded machine can exhaust: the accepted work must finish, not be cut.
      const server = await startServer({ POOL_THREADS: '2', LOG_LEVEL: 'debug', SHUTDOWN_GRACE_MS: '120000', REQUEST_TIMEOUT_MS: '120000' })
      const requests = Array.from({ length: 3 }, () => post(server.url, longRange))
      await accepted(server, 3)
      server.child.kill(signal)
      await until(() => server.logs.some((line) => line.msg === 'shutting down: draining'))
      await until(async () => { await expect(fetch(`${server.url}/health/live`)).rejects.toThrow(); return true }) // the listener closes

      const responses = await Promise.all(requests)
      expect(responses.map((response) => response.status)).toEqual([200, 200, 200])
      for (const response of responses) expect(((await response.json()) as { result: string }).result).toBe(closedForm(0, longRange.end).toString())
      expect(await server.exited).toEqual({ code: 0, signal: null })
      expect(server.logs.some((line) => line.msg === 'shutting down: draining' && line.signal === signal)).toBe(true)
    })
  }

  it('with a drain delay, answers readiness 503 and keeps serving until the delay is over', async () => {
    const server = await startServer({ SHUTDOWN_DRAIN_DELAY_MS: '3000' })
    server.child.kill('SIGTERM')
    await until(async () => (await fetch(`${server.url}/health/ready`)).status === 503)
    const work = await post(server.url, { end: 10 })
    expect(work.status).toBe(200)
    expect(await server.exited).toEqual({ code: 0, signal: null })
  })

  it('exits 0 at once although a connection is idle and another half-way through its headers', async () => {
    const server = await startServer({ POOL_THREADS: '1', SHUTDOWN_GRACE_MS: '3000' })
    const idle = connect(server.port, '127.0.0.1')
    const halfway = connect(server.port, '127.0.0.1')
    for (const socket of [idle, halfway]) socket.on('error', () => {})
    halfway.write('POST /v1/sum HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    await sleep(200)
    server.child.kill('SIGTERM')
    // Exit 0 is "at once": waiting on either connection would have run into the 3 s grace period, and exit 1.
    expect(await server.exited).toEqual({ code: 0, signal: null })
    for (const socket of [idle, halfway]) socket.destroy()
  })

  it('exits 1 when in-flight work outlasts the grace period', async () => {
    const server = await startServer({ POOL_THREADS: '1', SHUTDOWN_GRACE_MS: '300', LOG_LEVEL: 'debug' })
    const request = post(server.url, { end: 10_000_000_000, chunks: 1 }).catch((error: unknown) => error)
    await accepted(server, 1)
    server.child.kill('SIGTERM')
    expect(await server.exited).toEqual({ code: 1, signal: null })
    expect(await request).toBeInstanceOf(Error)
  })
})
