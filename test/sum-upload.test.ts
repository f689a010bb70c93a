import { once } from 'node:events'
import { request, type IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sumPrecise } from '../src/compute/sum.js'
import { randomValues } from './support/float64.js'
import { startServer, type ServerProcess } from './support/server-process.js'

const LIMIT = 32 * 1024 * 1024

async function readJson (response: IncomingMessage): Promise<{ status: number, body: Record<string, unknown> }> {
  let text = ''
  for await (const chunk of response) text += String(chunk)
  return { status: response.statusCode!, body: JSON.parse(text) }
}

/** Resolves with the first log line after `from` that matches, as soon as the server writes it. */
async function logged (server: ServerProcess, from: number, matches: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const stdout = server.child.stdout!
  return new Promise((resolve) => {
    const check = () => {
      const line = server.logs.slice(from).find(matches)
      if (line === undefined) return
      stdout.removeListener('data', onData)
      resolve(line)
    }
    // The log array fills on the same 'data' events, line by line: look again once they are handled.
    const onData = () => setImmediate(check)
    stdout.on('data', onData)
    check()
  })
}

/**
 * Real sockets, because what matters here is streaming: Content-Length known or not, bodies refused
 * before or while they arrive, and clients that hang up mid-upload.
 */
describe('uploads to POST /v1/sum over a real socket', () => {
  let server: ServerProcess
  // debug: the `incoming request` line tells when an upload has reached the server.
  beforeAll(async () => { server = await startServer({ POOL_THREADS: '2', BODY_LIMIT_BYTES: String(LIMIT), LOG_LEVEL: 'debug' }) })
  afterAll(async () => { await server.stop() })

  const open = (headers: Record<string, string | number>) =>
    request(`${server.url}/v1/sum`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers } })

  it('sums a 24 MiB body sent with Content-Length, split over both threads', async () => {
    const values = randomValues(3 * 1024 * 1024, 100)
    const response = await fetch(`${server.url}/v1/sum`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(values.buffer)
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ sum: sumPrecise(values), count: values.length, chunks: 2 })
  })

  it('sums a chunked upload without Content-Length, arriving in pieces that split values', async () => {
    const values = randomValues(700_000, 100)
    const bytes = new Uint8Array(values.buffer)
    const client = open({})
    const answered = once(client, 'response')
    for (let offset = 0; offset < bytes.length; offset += 65_533) client.write(bytes.subarray(offset, offset + 65_533))
    client.end()
    const [response] = await answered as [IncomingMessage]
    expect(response.headers['content-length']).toBeDefined()
    expect(await readJson(response)).toMatchObject({ status: 200, body: { sum: sumPrecise(values), count: values.length } })
  })

  it('refuses a declared Content-Length over the limit before the body is sent', async () => {
    const client = open({ 'content-length': LIMIT + 8 })
    client.flushHeaders()
    const [response] = await once(client, 'response') as [IncomingMessage]
    expect(await readJson(response)).toMatchObject({ status: 413, body: { error: 'Payload Too Large' } })
    client.destroy()
  })

  it('refuses a chunked upload as soon as it passes the limit, and keeps serving', async () => {
    const client = open({})
    client.on('error', () => {}) // the server closes the connection while we may still be writing
    const answered = once(client, 'response')
    const piece = new Uint8Array(1024 * 1024)
    let sent = 0
    const pump = () => {
      while (sent <= LIMIT * 2 && !client.destroyed) {
        sent += piece.length
        if (!client.write(piece)) return client.once('drain', pump)
      }
    }
    pump()
    const [response] = await answered as [IncomingMessage]
    expect(await readJson(response)).toMatchObject({ status: 413 })
    expect(response.headers.connection).toBe('close')
    client.destroy()
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200)
  })

  it('fails an upload whose client hangs up midway, and stays up with the pool at full strength', async () => {
    for (let i = 0; i < 3; i++) {
      const seen = server.logs.length
      // Its own id: the log is written asynchronously, so an earlier test's lines can still arrive after `seen`.
      const client = open({ 'content-length': 16 * 1024 * 1024, 'x-request-id': `hang-up-${i}` })
      client.on('error', () => {})
      client.write(new Uint8Array(4 * 1024 * 1024))
      const arrived = await logged(server, seen, (line) => line.msg === 'incoming request' && line.reqId === `hang-up-${i}`)
      client.destroy()
      // The parser must settle the request (a 400 nobody reads), not leave it hanging on a dead stream.
      await logged(server, seen, (line) => line.reqId === arrived.reqId && line.msg === 'request rejected' && (line.err as { code?: string })?.code === 'ECONNRESET')
    }
    const values = randomValues(1000, 100)
    const after = await fetch(`${server.url}/v1/sum`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(values.buffer) })
    expect(await after.json()).toMatchObject({ sum: sumPrecise(values) })
    const probe = await (await fetch(`${server.url}/probe`)).json() as { pool: unknown }
    expect(probe.pool).toMatchObject({ threads: 2, queued: 0, running: 0 })
    expect(server.child.exitCode).toBeNull()
    expect(server.logs.filter((line) => Number(line.level) >= 50)).toEqual([])
  })
})
