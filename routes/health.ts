import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { problemResponse } from '../src/http/error-body.js'
import { NoWorkersError, ShuttingDownError } from '../src/errors.js'
import { notReadyError } from '../src/http/readiness.js'

const live = z.object({ status: z.literal('ok') }).describe('The process runs').meta({ examples: [{ status: 'ok' }] })
const ready = z.object({ status: z.literal('ready') }).describe('Send this instance traffic').meta({ examples: [{ status: 'ready' }] })

/** Liveness (the process runs) and readiness (send it traffic), for load balancers and orchestrators. */
export default async function healthRoutes (app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  // Polled several times a second by balancers: no access line (logLevel below) and no trace (otel: false) per poll.
  const config = { servedWhileClosing: true, otel: false }
  const logLevel = 'error'

  routes.get('/health/live', { config, logLevel, schema: { operationId: 'getLiveness', tags: ['health'], summary: 'Liveness', response: { 200: live } } }, async () => ({ status: 'ok' as const }))

  // Not unready while saturated: when every replica fills up at once, a balancer left with no ready
  // server answers with its own error, while each replica's 503 says when to retry (docs/deploying-replicas.md).
  routes.get('/health/ready', {
    config,
    logLevel,
    schema: {
      operationId: 'getReadiness',
      tags: ['health'],
      summary: 'Readiness: 200 once started, until shutdown begins, while worker threads run. A full queue or overload does not change it: those are 503s per request',
      response: { 200: ready, 503: problemResponse('Shutting down, or no worker thread: send work elsewhere (no Retry-After when shutting down)', ShuttingDownError, NoWorkersError) }
    }
  }, async () => {
    const notReady = notReadyError(app)
    if (notReady !== undefined) throw notReady
    return { status: 'ready' as const }
  })
}
