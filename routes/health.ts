import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { OverloadedError, QueueFullError, ShuttingDownError, UploadMemoryFullError } from '../src/errors.js'
import { errorBody } from '../src/error-body.js'

const live = z.object({ status: z.literal('ok') }).describe('The process runs').meta({ examples: [{ status: 'ok' }] })
const ready = z.object({ status: z.literal('ready') }).describe('The service accepts work').meta({ examples: [{ status: 'ready' }] })

/** Liveness (the process runs) and readiness (it accepts work), for load balancers and orchestrators. */
export default async function healthRoutes (app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const config = { servedWhileClosing: true }
  // Orchestrators poll these every few seconds; a readiness 503 under load is expected, not news.
  const logLevel = 'error'

  routes.get('/health/live', { config, logLevel, schema: { summary: 'Liveness', response: { 200: live } } }, async () => ({ status: 'ok' as const }))

  routes.get('/health/ready', {
    config,
    logLevel,
    schema: {
      summary: 'Readiness: 503 while shutting down, while the queue is full, while upload memory could not take a body of the largest size, or under pressure',
      response: { 200: ready, 503: errorBody.describe('Shutting down or saturated: send work elsewhere for now') }
    }
  }, async () => {
    if (!app.isReady()) throw new ShuttingDownError()
    if (app.executor.stats().saturated) throw new QueueFullError()
    if (app.uploads.stats().saturated) throw new UploadMemoryFullError()
    if (app.isUnderPressure()) throw new OverloadedError()
    return { status: 'ready' as const }
  })
}
