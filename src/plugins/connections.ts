import type { Server } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../platform/config.js'
import { createConnectionGuard, type ConnectionStats } from '../clients/connection-guard.js'
import { proxyPeerMatcher } from '../http/proxy-peers.js'

declare module 'fastify' {
  interface FastifyInstance {
    connections: { stats: () => ConnectionStats }
  }
}

export interface ConnectionsOptions {
  config: Pick<Config, 'MAX_CONNECTIONS' | 'MAX_CONNECTIONS_PER_CLIENT' | 'TRUST_PROXY'>
}

/**
 * Puts the connection guard between the listener and Node's HTTP server: the guard sees each new
 * socket first, and one it refuses is answered and closed without ever reaching the HTTP parser
 * (or Fastify). Requests are watched only to know which connections are idle.
 */
async function connections (app: FastifyInstance, { config }: ConnectionsOptions) {
  const guard = createConnectionGuard({
    maxConnections: config.MAX_CONNECTIONS,
    maxPerClient: config.MAX_CONNECTIONS_PER_CLIENT,
    isProxy: proxyPeerMatcher(config.TRUST_PROXY),
    onRefused: countedWarning(app.log, 'connections refused', 'reason')
  })
  const server = app.server as Server
  const httpListeners = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  server.on('connection', (socket: Socket) => {
    if (!guard.admit(socket)) return
    for (const listener of httpListeners) listener.call(server, socket)
  })
  server.prependListener('request', (request, response) => {
    guard.requestStarted(request.socket)
    response.once('close', () => guard.requestEnded(request.socket))
  })
  logAcceptErrors(server, app.log)
  app.decorate('connections', { stats: () => guard.stats() })
}

/**
 * Without a listener, a failed accept() (EMFILE: no descriptor free) is an 'error' event nobody
 * handles, which ends the process. It is a moment's shortage: libuv closes the waiting connections
 * and the listener goes on.
 */
export function logAcceptErrors (server: Pick<Server, 'on'>, log: FastifyBaseLogger) {
  const warn = countedWarning(log, 'accept failed: connections closed unanswered', 'code')
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.syscall === 'accept') warn(error.code ?? 'unknown')
    else log.error({ err: error }, 'listener error')
  })
}

/**
 * A warning for something that can happen thousands of times a second: at most one line a second,
 * counting by `key` what happened since the last.
 */
function countedWarning (log: FastifyBaseLogger, message: string, key: string): (value: string) => void {
  let counts: Record<string, number> = {}
  let loggedAt = 0
  return (value) => {
    counts[value] = (counts[value] ?? 0) + 1
    if (Date.now() - loggedAt < 1000) return
    log.warn({ [key]: counts }, message)
    loggedAt = Date.now()
    counts = {}
  }
}

export default fp(connections, { name: 'connections' })
