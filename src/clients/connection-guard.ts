import { randomUUID } from 'node:crypto'
import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { clientOfAddress } from './client-identity.js'
import { errorBodyOf, PROBLEM_JSON } from '../http/error-body.js'
import { ConnectionsFullError, TooManyConnectionsError } from '../errors.js'

export interface ConnectionGuardOptions {
  maxConnections: number
  maxPerClient: number
  /** Peers that carry many clients (TRUST_PROXY's listed proxies): held to the global cap only. */
  isProxy: (address: string) => boolean
  /** Told of each refusal, for a log line. */
  onRefused?: (reason: Refusal) => void
}

export interface ConnectionStats {
  open: number
  idle: number
  maxConnections: number
  refusedPerClient: number
  refusedFull: number
  idleClosed: number
}

/** Share of MAX_CONNECTIONS above which idle connections are closed, the busiest address's first... */
const SWEEP_ABOVE = 0.9
/** ...until this share is left, so a sweep is not run again for every new connection. */
const SWEEP_DOWN_TO = 0.8
/** How long a refused connection may stay to read the client's request, so the client reads our answer rather than a reset. */
export const REFUSAL_DRAIN_MS = 2000
/** Seconds a refused client is asked to wait: idle connections are being closed, room comes back fast. */
const RETRY_AFTER_S = 1

export type Refusal = 'per-client' | 'full' | 'reset'

interface Connection {
  client: string
  /** Requests on it not yet answered; 0 means idle (a keep-alive connection between requests, or one that has sent nothing yet). */
  inFlight: number
}

interface Client {
  held: number
  /** Its idle connections in the order they became idle: the first is the one idle longest. */
  idle: Set<Socket>
}

/**
 * Counts open connections, globally and per client address, and decides on each new one: admit it,
 * or answer it at once with 429 (past its address's share) or 503 (past the global cap) and close
 * it. Refused sockets never reach the HTTP parser. Near the cap, idle connections are closed, those
 * of the address holding the most first: one host's idle sockets go before everyone else's.
 */
export function createConnectionGuard ({ maxConnections, maxPerClient, isProxy, onRefused = () => {} }: ConnectionGuardOptions) {
  const connections = new Map<Socket, Connection>()
  const clients = new Map<string, Client>()
  let idleCount = 0
  // Refusals hold a descriptor for up to REFUSAL_DRAIN_MS; past this many at once, the rest are reset.
  const maxRefusing = Math.max(16, Math.floor(maxConnections / 16))
  let refusing = 0
  const stats = { refusedPerClient: 0, refusedFull: 0, idleClosed: 0 }

  const setIdle = (socket: Socket, connection: Connection, idle: boolean) => {
    const { idle: set } = clients.get(connection.client)!
    if (set.delete(socket)) idleCount--
    if (idle) {
      set.add(socket)
      idleCount++
    }
  }

  const release = (socket: Socket) => {
    const connection = connections.get(socket)
    if (connection === undefined) return
    setIdle(socket, connection, false)
    connections.delete(socket)
    const client = clients.get(connection.client)!
    if (--client.held === 0) clients.delete(connection.client)
  }

  const sweepIdle = () => {
    if (connections.size < maxConnections * SWEEP_ABOVE || idleCount === 0) return
    let excess = connections.size - Math.floor(maxConnections * SWEEP_DOWN_TO)
    const busiest = [...clients.values()].filter((client) => client.idle.size > 0).sort((a, b) => b.held - a.held)
    for (const client of busiest) {
      for (const socket of client.idle) {
        if (excess-- <= 0) return
        stats.idleClosed++
        release(socket)
        socket.destroy()
      }
    }
  }

  const refuse = (socket: Socket, reason: Refusal, error: { statusCode: number, message: string }) => {
    if (refusing >= maxRefusing) {
      onRefused('reset')
      socket.destroy()
      return
    }
    onRefused(reason)
    refusing++
    const body = JSON.stringify(errorBodyOf(error, randomUUID()))
    socket.on('error', () => {})
    // Read and drop the request, and close once the client has (or the drain time is up): closing a
    // socket with unread input sends a reset, which can destroy our answer before the client reads it.
    socket.resume()
    socket.once('end', () => socket.destroy())
    const timer = setTimeout(() => socket.destroy(), REFUSAL_DRAIN_MS)
    timer.unref()
    socket.once('close', () => {
      clearTimeout(timer)
      refusing--
    })
    socket.end(`HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode]}\r\n` +
      `Content-Type: ${PROBLEM_JSON}; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `Retry-After: ${RETRY_AFTER_S}\r\nConnection: close\r\n\r\n${body}`)
  }

  return {
    /** True when the connection may go on to the HTTP server; false when it was refused (and is being closed). */
    admit (socket: Socket): boolean {
      const address = socket.remoteAddress
      if (address === undefined) {
        socket.destroy()
        return false
      }
      sweepIdle()
      if (connections.size >= maxConnections) {
        stats.refusedFull++
        refuse(socket, 'full', new ConnectionsFullError())
        return false
      }
      // A listed proxy carries many clients: counted under its own address, but never capped by it.
      const proxy = isProxy(address)
      const name = proxy ? `proxy:${address}` : clientOfAddress(address)
      const client = clients.get(name) ?? { held: 0, idle: new Set<Socket>() }
      if (!proxy && client.held >= maxPerClient) {
        stats.refusedPerClient++
        refuse(socket, 'per-client', new TooManyConnectionsError(maxPerClient))
        return false
      }
      client.held++
      clients.set(name, client)
      const connection = { client: name, inFlight: 0 }
      connections.set(socket, connection)
      setIdle(socket, connection, true)
      socket.once('close', () => release(socket))
      return true
    },
    /** A request arrived on an admitted connection: it is busy until the answer is done. */
    requestStarted (socket: Socket) {
      const connection = connections.get(socket)
      if (connection === undefined) return
      connection.inFlight++
      setIdle(socket, connection, false)
    },
    requestEnded (socket: Socket) {
      const connection = connections.get(socket)
      if (connection === undefined) return
      connection.inFlight = Math.max(0, connection.inFlight - 1)
      if (connection.inFlight === 0) setIdle(socket, connection, true)
    },
    stats (): ConnectionStats {
      return { open: connections.size, idle: idleCount, maxConnections, ...stats }
    }
  }
}

export type ConnectionGuard = ReturnType<typeof createConnectionGuard>
