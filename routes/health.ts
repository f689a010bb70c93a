import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { NoWorkersError, ShuttingDownError } from '../src/errors.js'
import { errorBody } from '../src/error-body.js'

const live = z.object({ status: z.literal('ok') }).describe('The process runs').meta({ examples: [{ status: 'ok' }] })
const ready = z.object({ status: z.literal('ready') }).describe('Send this instance traffic').meta({ examples: [{ status: 'ready' }] })

/** Liveness (the process runs) and readiness (send it traffic), for load balancers and orchestrators. */
export default async function healthRoutes (app: FastifyInstance) {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const config = { servedWhileClosing: true }
  // Balancers poll these several times a second; each answer is not news.
  const logLevel = 'error'

  routes.get('/health/live', { config, logLevel, schema: { summary: 'Liveness', response: { 200: live } } }, async () => ({ status: 'ok' as const }))

  // Not unready while saturated: when every replica fills up at once, a balancer left with no ready
  // server answers with its own error, while each replica's 503 says when to retry (docs/deploying-replicas.md).
  routes.get('/health/ready', {
    config,
    logLevel,
    schema: {
      summary: 'Readiness: 200 once started, until shutdown begins, while worker threads run. A full queue or overload does not change it: those are 503s per request',
      response: { 200: ready, 503: errorBody.describe('Shutting down, or no worker thread: send work elsewhere') }
    }
  }, async () => {
    if (!app.isReady()) throw new ShuttingDownError()
    const pool = app.executor.stats()
    if (pool.kind === 'pool' && pool.threads === 0) throw new NoWorkersError()
    return { status: 'ready' as const }
  })
}
