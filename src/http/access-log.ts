import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'
import { apiKeyDigest } from '../clients/client-identity.js'
import { abortReasonFor } from '../executor/abort-reasons.js'
import type { AbortReason } from '../executor/executor.js'
import { UNMATCHED_ROUTE } from '../metrics/http-metrics.js'
import { roundMs } from './server-timing.js'

/** What an access line holds besides pino's own fields and the request's `reqId`. */
export interface AccessLine {
  method: string
  /** The route pattern, or `unmatched`. */
  route: string
  /** Only for a request that matched no route: the path asked for, cut to 200 characters. */
  url?: string
  statusCode: number
  /** The client's address: the forwarded one when `TRUST_PROXY` trusts the peer. */
  remoteAddress: string
  /** From the request's arrival to the response's last byte handed to the socket. */
  durationMs: number
  /** Compute routes whose work ran: kernel time summed over chunks, and the chunk count. */
  kernelMs?: number
  chunks?: number
  /** Why the request's tasks were aborted (deadline, disconnect), when they were. */
  abortReason?: AbortReason
  /** A digest of the bearer token presented (src/clients/client-identity.ts), never the token. */
  apiKey?: string
  /** While tracing is on. */
  traceId?: string
}

const VERBOSE = new Set(['info', 'debug', 'trace'])
/** Requests whose line is written: a request gets one, however it ends. */
const written = new WeakSet<FastifyRequest>()

/**
 * One line per request, at `info`, once the response has gone out (after every onResponse hook), in
 * place of Fastify's two default lines (its `incoming request` stays, at `debug`): what an operator
 * asks first, in one place. Fastify's other
 * lines (stream and serializer errors) are left as they are. Routes polled by machines (health,
 * probe, metrics) set a quieter `logLevel`, and their child logger skips the line.
 */
export class AccessLog extends LogController {
  /** Fastify's own line, kept at `debug`: with it, a request that arrived and never finished can be found. */
  override incomingRequest (request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request')
  }

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (written.has(request)) return
    written.add(request)
    if (error !== null && error !== undefined) {
      reply.log.error({ ...accessLine(request, reply), err: error }, 'request errored')
    } else if (VERBOSE.has(reply.log.level)) {
      // Checked first: below `info` the line is not even built.
      reply.log.info(accessLine(request, reply), 'request completed')
    }
  }
}

/**
 * The line of a request whose client hung up before the answer, as 499 ("client closed request"):
 * Fastify never completes such a request, so the compute scope writes it when the connection closes.
 */
export function logDisconnected (request: FastifyRequest, reply: FastifyReply): void {
  if (written.has(request)) return
  written.add(request)
  if (VERBOSE.has(reply.log.level)) reply.log.info({ ...accessLine(request, reply), statusCode: 499 }, 'request completed')
}

export function accessLine (request: FastifyRequest, reply: FastifyReply): AccessLine {
  const route = request.routeOptions.url
  const line: AccessLine = {
    method: request.method,
    route: route ?? UNMATCHED_ROUTE,
    statusCode: reply.statusCode,
    remoteAddress: request.ip,
    durationMs: roundMs(reply.elapsedTime)
  }
  if (route === undefined) line.url = request.url.split('?')[0]!.slice(0, 200)
  // Both exist only on requests of the compute scope.
  const run = request.computeRun
  if (run != null) {
    line.kernelMs = roundMs(run.kernelMs)
    line.chunks = run.chunks
  }
  const signal = request.computeSignal
  if (signal?.aborted === true) line.abortReason = abortReasonFor(signal.reason)
  const apiKey = apiKeyDigest(request.headers.authorization)
  if (apiKey !== undefined) line.apiKey = apiKey
  if (request.traceId !== undefined) line.traceId = request.traceId
  return line
}
