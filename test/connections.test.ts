import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { rawExchange, requestHead, type RawOutcome } from './support/raw-http.js'
import { startServer, type ServerProcess } from './support/server-process.js'

const live = requestHead('GET', '/health/live', [])

/** A connection from `localAddress`, once connected. */
async function connectFrom (port: number, localAddress: string): Promise<Socket> {
  const socket = connect({ port, host: '127.0.0.1', localAddress })
  socket.on('error', () => {})
  await once(socket, 'connect')
  return socket
}

/** A keep-alive connection that sent `head` and read the start of its answer: idle if the answer was whole, busy otherwise. */
async function exchangeOn (socket: Socket, head: string): Promise<string> {
  socket.write(`${head}\r\n\r\n`)
  const [chunk] = await once(socket, 'data') as [Buffer]
  return chunk.toString('latin1')
}

function bodyOf (outcome: RawOutcome): Record<string, unknown> {
  return JSON.parse(outcome.head.slice(outcome.head.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
}

describe('connection caps', () => {
  let server: ServerProcess
  const sockets: Socket[] = []
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy()
    await server.stop()
  })

  it('answers a connection past its address\'s share with 429, Retry-After and Connection: close, outside Fastify; other addresses are answered', async () => {
    server = await startServer({ MAX_CONNECTIONS_PER_CLIENT: '3', LOG_LEVEL: 'warn' })
    for (let i = 0; i < 3; i++) sockets.push(await connectFrom(server.port, '127.0.0.2'))

    const refused = await rawExchange({ port: server.port, head: live, capMs: 5000, localAddress: '127.0.0.2' })
    expect(refused.status).toBe(429)
    expect(refused.head).toMatch(/\r\nretry-after: 1\r\n/i)
    expect(refused.head).toMatch(/\r\nconnection: close\r\n/i)
    // Fastify adds x-request-id to every answer it gives: this one never reached it.
    expect(refused.head).not.toMatch(/\r\nx-request-id:/i)
    expect(refused.head).toMatch(/\r\ncontent-type: application\/problem\+json; charset=utf-8\r\n/i)
    // No instance: the request was never read.
    expect(bodyOf(refused)).toEqual({
      type: 'https://compute-service.dev/problems/too-many-connections',
      title: 'Too many connections from this address',
      status: 429,
      detail: expect.stringMatching(/At most 3 connections/),
      code: 'SVC_TOO_MANY_CONNECTIONS',
      requestId: expect.any(String),
      statusCode: 429,
      error: 'Too Many Requests',
      message: expect.stringMatching(/At most 3 connections/)
    })
    expect(refused.closedMs).toBeGreaterThanOrEqual(0)

    const other = await rawExchange({ port: server.port, head: live, capMs: 5000, localAddress: '127.0.0.3' })
    expect(other.status).toBe(200)
  })

  it('answers a connection past MAX_CONNECTIONS with 503 when every open one is busy', async () => {
    server = await startServer({ MAX_CONNECTIONS: '4', UPLOAD_MIN_BYTES_PER_SECOND: '0', LOG_LEVEL: 'warn' })
    // Busy: each has sent a request head whose body never comes; 100 Continue proves the server has the request.
    const stalled = requestHead('POST', '/v1/sum-of-squares', [['Content-Type', 'application/json'], ['Content-Length', 100], ['Expect', '100-continue']])
    for (let i = 0; i < 4; i++) {
      const socket = await connectFrom(server.port, `127.0.0.${2 + i}`)
      sockets.push(socket)
      expect(await exchangeOn(socket, stalled)).toMatch(/^HTTP\/1\.1 100 Continue/)
    }

    const refused = await rawExchange({ port: server.port, head: live, capMs: 5000, localAddress: '127.0.0.9' })
    expect(refused.status).toBe(503)
    expect(refused.head).toMatch(/\r\nretry-after: 1\r\n/i)
    expect(bodyOf(refused)).toMatchObject({ code: 'SVC_CONNECTIONS_FULL', statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/no room for another connection/) })
  })

  it('closes idle connections near the cap, those of the address holding the most first, and answers the newcomers', async () => {
    // Above 90% of 20 (18 open), idle ones are closed down to 80% (16).
    server = await startServer({ MAX_CONNECTIONS: '20', LOG_LEVEL: 'warn' })
    const idle: Socket[] = []
    for (let i = 0; i < 16; i++) {
      const socket = await connectFrom(server.port, '127.0.0.2')
      expect(await exchangeOn(socket, live)).toMatch(/^HTTP\/1\.1 200/)
      idle.push(socket)
    }
    sockets.push(...idle)
    const oldestClosed = once(idle[0]!, 'close')

    const newcomers: string[] = []
    const oldest = { closed: false }
    oldestClosed.then(() => { oldest.closed = true }, () => {})
    for (let i = 0; i < 4 && !oldest.closed; i++) {
      const socket = await connectFrom(server.port, '127.0.0.3')
      sockets.push(socket)
      newcomers.push(await exchangeOn(socket, live))
    }
    await oldestClosed
    expect(newcomers.every((answer) => answer.startsWith('HTTP/1.1 200'))).toBe(true)
    // Only as many as needed: the most recent idle connections stay open.
    expect(idle.at(-1)!.destroyed).toBe(false)
  })
})
