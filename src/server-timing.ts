import { performance } from 'node:perf_hooks'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Milliseconds to three decimals: the precision every reported duration uses. */
export function roundMs (ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * The reply's timing, for every compute route: sets `Server-Timing` (kernel time beside the
 * handler's wall time, for load tests and browser dev tools) and returns `elapsedMs` for the body.
 */
export function serverTiming (request: FastifyRequest, reply: FastifyReply, kernelMs: number): number {
  const elapsedMs = roundMs(performance.now() - request.computeStartedAt)
  reply.header('server-timing', `kernel;dur=${kernelMs.toFixed(4)}, total;dur=${elapsedMs}`)
  return elapsedMs
}
