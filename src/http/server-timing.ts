import { performance } from 'node:perf_hooks'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Offloaded } from '../executor/offload.js'

/** Milliseconds to three decimals: the precision every reported duration uses. */
export function roundMs (ms: number): number {
  return Math.round(ms * 1000) / 1000
}

/**
 * The reply's timing, for every compute route: sets `Server-Timing` (kernel time beside the
 * handler's wall time, for load tests and browser dev tools), keeps the run's kernel time and
 * chunks on the request for the access line, and returns `elapsedMs` for the body.
 */
export function serverTiming (request: FastifyRequest, reply: FastifyReply, run: Pick<Offloaded<unknown>, 'kernelMs' | 'chunks'>): number {
  const elapsedMs = roundMs(performance.now() - request.computeStartedAt)
  request.computeRun = { kernelMs: run.kernelMs, chunks: run.chunks }
  reply.header('server-timing', `kernel;dur=${run.kernelMs.toFixed(4)}, total;dur=${elapsedMs}`)
  return elapsedMs
}
