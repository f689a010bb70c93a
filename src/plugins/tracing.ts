import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace id while tracing is on, for the access line. */
    traceId: string | undefined
  }
}

async function tracingPlugin (app: FastifyInstance) {
  app.decorateRequest('traceId', undefined)
}

export default fp(tracingPlugin, { name: 'tracing' })
