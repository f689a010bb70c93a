import type { Socket } from 'node:net'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ShuttingDownError } from '../errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts draining: readiness turns 503 so load balancers stop sending work; work still in reach is served. */
    drain(): void
    /** False from the first step of shutdown on. */
    isReady(): boolean
  }
  interface FastifyContextConfig {
    /** Health and probe routes keep answering while the service closes, so it can be watched going down. */
    servedWhileClosing?: boolean
  }
}

type State = 'running' | 'draining' | 'closing'

/** Flushes what is written, then closes: destroy() at once could cut off a response's last bytes. */
function endSoon (socket: Socket) {
  socket.end(() => socket.destroy())
}

/**
 * Shutdown in two steps. Draining: readiness is 503 and every response carries `Connection: close`,
 * so clients reconnect through the load balancer to another instance, while requests that still
 * arrive are served. Closing (`app.close()`): the listener stops, in-flight requests finish, and a
 * request that still arrives on an open connection gets a 503 in the service's error shape.
 * Connections with no request in the app's hands (idle, or still sending headers) are closed then:
 * Node counts one with half its headers as busy, and would keep the process up for its sake. So is
 * every connection whose last response (an event stream) ends after that.
 */
async function lifecyclePlugin (app: FastifyInstance) {
  let state: State = 'running'
  app.decorate('drain', () => { if (state === 'running') state = 'draining' })
  app.decorate('isReady', () => state === 'running')

  const requestsOn = new Map<Socket, number>()
  app.server.on('connection', (socket: Socket) => {
    requestsOn.set(socket, 0)
    socket.once('close', () => { requestsOn.delete(socket) })
  })
  const count = (socket: Socket | null | undefined, change: number) => {
    if (socket != null && requestsOn.has(socket)) requestsOn.set(socket, requestsOn.get(socket)! + change)
  }
  // Counted before anything else can refuse the request: every response is matched by its request.
  app.addHook('onRequest', async (request) => { count(request.raw.socket, 1) })
  app.addHook('onResponse', async (request) => {
    const socket = request.raw.socket
    count(socket, -1)
    // A response that ends after closing began (an event stream, ended by shutdown) went out with
    // keep-alive: close its connection now, or an idle client would hold the process past its grace.
    if (state === 'closing' && socket != null && (requestsOn.get(socket) ?? 0) <= 0) endSoon(socket)
  })

  app.addHook('preClose', async () => {
    state = 'closing'
    for (const [socket, requests] of requestsOn) if (requests <= 0) socket.destroy()
  })
  app.addHook('onRequest', async (request) => {
    if (state === 'closing' && request.routeOptions.config.servedWhileClosing !== true) throw new ShuttingDownError()
  })
  app.addHook('onSend', async (_request, reply) => {
    // Without this a kept-alive connection would hold the server open after its last response.
    if (state !== 'running') reply.header('connection', 'close')
  })
}

export default fp(lifecyclePlugin, { name: 'lifecycle' })
