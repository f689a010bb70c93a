import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { errorBody } from '../src/error-body.js'
import { notReadyError } from '../src/readiness.js'

const live = z.object({ status: z.literal('ok') }).describe('The process runs').meta({ examples: [{ status: 'ok' }] })
const ready = z.object({ status: z.literal('ready') }).describe('The service accepts work').meta({ examples: [{ status: 'ready' }] })

/** Liveness (the process runs) and readiness (it accepts work), for load balancers and orchestrators. */
export default async function healthRoutes (app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  // Polled every few seconds: no access line (logLevel below) and no trace (otel: false) per poll.
  const config = { servedWhileClosing: true, otel: false }
  // Orchestrators poll these every few seconds; a readiness 503 under load is expected, not news.
  const logLevel = 'error'

  routes.get('/health/live', { config, logLevel, schema: { operationId: 'getLiveness', tags: ['health'], summary: 'Liveness', response: { 200: live } } }, async () => ({ status: 'ok' as const }))

  routes.get('/health/ready', {
    config,
    logLevel,
    schema: {
      operationId: 'getReadiness',
      tags: ['health'],
      summary: 'Readiness: 503 while shutting down, while the queue is full or under pressure',
      response: { 200: ready, 503: errorBody.describe('Shutting down or saturated: send work elsewhere for now') }
    }
  }, async () => {
    const notReady = notReadyError(app)
    if (notReady !== undefined) throw notReady
    return { status: 'ready' as const }
  })
}
