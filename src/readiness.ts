import type { FastifyInstance } from 'fastify'
import { OverloadedError, QueueFullError, ShuttingDownError } from './errors.js'

/**
 * Why the instance should get no new work right now (shutting down, queue full, under pressure), or
 * undefined when it is ready: what GET /health/ready answers and the `health_ready` gauge shows.
 */
export function notReadyError (app: FastifyInstance): Error | undefined {
  if (!app.isReady()) return new ShuttingDownError()
  if (app.executor.stats().saturated) return new QueueFullError()
  if (app.isUnderPressure()) return new OverloadedError()
  return undefined
}
