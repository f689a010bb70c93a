import type { FastifyReply, FastifyRequest } from 'fastify'
import { Histogram, type Registry } from 'prom-client'

/** The route label of a request that matched no route: raw URLs would make one series per URL tried. */
export const UNMATCHED_ROUTE = 'unmatched'

/** Returns the onResponse recorder of `compute_http_request_duration_seconds`, labelled by route pattern and status. */
export function createHttpMetrics (registry: Registry) {
  const duration = new Histogram({
    name: 'compute_http_request_duration_seconds',
    help: 'Time from request received to response sent, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    // Probes answer in well under a millisecond; a large sum of squares takes seconds.
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry]
  })
  return (request: FastifyRequest, reply: FastifyReply) => {
    duration.observe({
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status_code: reply.statusCode
    }, reply.elapsedTime / 1000)
  }
}
