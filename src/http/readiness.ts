import type { FastifyInstance } from 'fastify'
import { NoWorkersError, ShuttingDownError } from '../errors.js'

/**
 * Why the instance should get no traffic (draining, or a pool with no thread), or undefined when it
 * is ready: what GET /health/ready answers and the `compute_health_ready` gauge shows. A full queue or an
 * overloaded loop is answered per request instead, so a balancer never runs out of replicas.
 */
export function notReadyError (app: FastifyInstance): Error | undefined {
  if (!app.isReady()) return new ShuttingDownError()
  const pool = app.executor.stats()
  if (pool.kind === 'pool' && pool.threads === 0) return new NoWorkersError()
  return undefined
}
