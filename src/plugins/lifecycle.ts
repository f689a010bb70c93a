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

/**
 * Shutdown in two steps. Draining: readiness is 503 and every response carries `Connection: close`,
 * so clients reconnect through the load balancer to another instance, while requests that still
 * arrive are served. Closing (`app.close()`): the listener stops, in-flight requests finish, and a
 * request that still arrives on an open connection gets a 503 in the service's error shape.
 */
async function lifecyclePlugin (app: FastifyInstance) {
  let state: State = 'running'
  app.decorate('drain', () => { if (state === 'running') state = 'draining' })
  app.decorate('isReady', () => state === 'running')

  app.addHook('preClose', async () => { state = 'closing' })
  app.addHook('onRequest', async (request) => {
    if (state === 'closing' && request.routeOptions.config.servedWhileClosing !== true) throw new ShuttingDownError()
  })
  app.addHook('onSend', async (_request, reply) => {
    // Without this a kept-alive connection would hold the server open after its last response.
    if (state !== 'running') reply.header('connection', 'close')
  })
}

export default fp(lifecyclePlugin, { name: 'lifecycle' })
