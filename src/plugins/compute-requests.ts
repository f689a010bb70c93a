import type { IncomingMessage } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { logDisconnected } from '../http/access-log.js'
import { clientOf } from '../clients/client-identity.js'
import type { Config } from '../platform/config.js'
import {
  BodyTooLargeError, ClientDisconnectedError, DeadlineExceededError, InvalidTimeoutError, JsonTooLargeError,
  UploadMemoryFullError, UploadShareFullError, UploadTimeoutError
} from '../errors.js'
import { Cancellation, onAbort } from '../executor/cancellation.js'
import type { Deadline, TaskName } from '../executor/executor.js'
import type { Reservation, UploadRefusal } from '../uploads/upload-budget.js'
import { UploadMeter } from '../uploads/upload-meter.js'
import { JSON_MEMORY_FACTOR } from '../uploads/upload-memory.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Aborts the request's tasks, queued or running: with a DeadlineExceededError past the deadline,
     * or a ClientDisconnectedError when the client goes away. Set on compute routes only.
     */
    computeSignal: Cancellation
    /** When the request's deadline falls: work that cannot finish by then is refused before it is queued. */
    computeDeadline: Deadline
    /** Who the request is for (API key digest, or address): the pool's queue is shared fairly between clients. */
    computeClient: string
    /** When the handler started (performance.now()): what `elapsedMs` counts from. */
    computeStartedAt: number
    /** Kernel time and chunks of the request's work, once it has run (set by serverTiming): for the access line. */
    computeRun: { kernelMs: number, chunks: number } | null
    /**
     * Takes the body's upload reservation from the request, which then no longer returns it when
     * answered: for a body kept after the answer (an embedded job's binary input), released by its keeper.
     */
    keepUploadReservation(): Reservation | undefined
  }
  interface FastifyContextConfig {
    /**
     * The task a compute route runs, set by the route factory (routes/compute.ts) from the task's
     * declaration: a large body is refused unread while that task's queue is full for its client.
     */
    computeTask?: TaskName
  }
}

export const TIMEOUT_HEADER = 'x-timeout-ms'

/** Fastify's default body limit, for routes that set none. */
const DEFAULT_BODY_LIMIT = 1024 * 1024

/** A body up to this size is read before admission is asked: cheaper than refusing it unread. */
const READ_BEFORE_ADMISSION_BYTES = 64 * 1024

export type ComputeRequestsOptions = Pick<Config,
  'REQUEST_TIMEOUT_MS' | 'JSON_BODY_LIMIT_BYTES' | 'UPLOAD_MIN_BYTES_PER_SECOND' | 'UPLOAD_RATE_WINDOW_MS' | 'API_KEYS'>

/**
 * Every request in the compute scope gets a deadline (REQUEST_TIMEOUT_MS, or a shorter one from
 * `X-Timeout-Ms`) from its arrival, and an abort signal that fires past it or when the client
 * disconnects. Its body is metered as it arrives (src/uploads/upload-meter.ts): refused from Content-Length
 * when over its limit (413), over its client's share of the upload memory budget (429) or over the
 * budget (503), and cut with 408 when it is
 * still arriving at the deadline or arrives slower than the minimum rate. A large body is refused
 * before it is read while its client's share of the pool's queue is full.
 */
async function computeRequests (app: FastifyInstance, options: ComputeRequestsOptions) {
  const states = new WeakMap<FastifyRequest, { deadlineMs: number, timer: NodeJS.Timeout, reservation?: Reservation, meter?: UploadMeter }>()
  const settle = (request: FastifyRequest) => {
    const state = states.get(request)
    clearTimeout(state?.timer)
    state?.reservation?.release()
  }
  const refused = (why: UploadRefusal) => why === 'share' ? new UploadShareFullError(app.uploads.stats().perClientBytes) : new UploadMemoryFullError()
  const byApiKey = options.API_KEYS !== undefined
  app.decorateRequest('computeSignal', null as unknown as Cancellation)
  app.decorateRequest('computeClient', '')
  app.decorateRequest('computeDeadline', null as unknown as Deadline)
  app.decorateRequest('computeStartedAt', 0)
  app.decorateRequest('computeRun', null)
  app.decorateRequest('keepUploadReservation', function (this: FastifyRequest) {
    const state = states.get(this)
    const reservation = state?.reservation
    if (state !== undefined) delete state.reservation
    return reservation
  })

  app.addHook('onRequest', async (request, reply) => {
    request.computeClient = clientOf(request, byApiKey)
    const timeoutMs = deadlineOf(request.headers[TIMEOUT_HEADER], options.REQUEST_TIMEOUT_MS)
    const signal = request.computeSignal = new Cancellation()
    request.computeDeadline = { at: performance.now() + timeoutMs, ms: timeoutMs }
    states.set(request, { deadlineMs: timeoutMs, timer: setTimeout(() => signal.abort(new DeadlineExceededError(timeoutMs)), timeoutMs) })
    // 'close' fires on the response once it is sent, or earlier if the connection goes away.
    reply.raw.once('close', () => {
      settle(request)
      if (!reply.raw.writableFinished && !signal.aborted) {
        signal.abort(new ClientDisconnectedError())
        logDisconnected(request, reply)
      }
    })
  })

  app.addHook('preParsing', async (request, _reply, payload) => {
    const declared = contentLength(request)
    if (declared === 0 || (declared === undefined && request.headers['transfer-encoding'] === undefined)) return payload
    const json = mediaTypeOf(request) === 'application/json'
    const routeLimit = request.routeOptions.bodyLimit ?? DEFAULT_BODY_LIMIT
    const limit = json ? Math.min(routeLimit, options.JSON_BODY_LIMIT_BYTES) : routeLimit
    const tooLarge = () => json && routeLimit > limit && takesBinary(request)
      ? new JsonTooLargeError(limit, routeLimit)
      : new BodyTooLargeError(limit)
    if (declared !== undefined && declared > limit) throw tooLarge()

    const task = request.routeOptions.config.computeTask
    if ((declared === undefined || declared > READ_BEFORE_ADMISSION_BYTES) && task !== undefined) {
      app.executor.admit(task, request.computeClient)
    }

    // A body of known length is reserved whole before a byte is read; a chunked one as it grows,
    // twice over for binary (its pieces are gathered, then copied once into shared memory).
    const reservePerByte = json ? JSON_MEMORY_FACTOR : declared === undefined ? 2 : 1
    const reservation = app.uploads.reserve(declared === undefined ? 0 : declared * reservePerByte, request.computeClient)
    if (typeof reservation === 'string') throw refused(reservation)
    const state = states.get(request)!
    state.reservation = reservation

    const meter = new UploadMeter(payload as IncomingMessage, declared, reservation, {
      limit,
      tooLarge,
      refused,
      reservePerByte,
      minBytesPerSecond: options.UPLOAD_MIN_BYTES_PER_SECOND,
      rateWindowMs: options.UPLOAD_RATE_WINDOW_MS
    })
    state.meter = meter
    app.uploads.track(meter)
    const stop = onAbort(request.computeSignal, () => {
      if (request.computeSignal.reason instanceof DeadlineExceededError) meter.cut(new UploadTimeoutError(state.deadlineMs))
    })
    meter.once('close', stop)
    return meter
  })

  app.addHook('preHandler', async (request) => {
    request.computeStartedAt = performance.now()
  })

  // app.inject's responses never emit 'close'; this clears the deadline and the reservation there too.
  // Once answered, a body nobody read (a 415, say) is let go; a client that hung up mid-upload
  // never gets here, and its parser learns of it from the socket's own error instead.
  app.addHook('onResponse', async (request) => {
    settle(request)
    states.get(request)?.meter?.dispose()
  })
}

function contentLength (request: FastifyRequest): number | undefined {
  const header = request.headers['content-length']
  return header === undefined ? undefined : Number(header)
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` is `application/json`. */
export function mediaTypeOf (request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
}

function takesBinary (request: FastifyRequest): boolean {
  const body = request.routeOptions.schema?.body as { content?: Record<string, unknown> } | undefined
  return body?.content?.['application/octet-stream'] !== undefined
}

function deadlineOf (header: string | string[] | undefined, maximum: number): number {
  if (header === undefined) return maximum
  if (typeof header !== 'string' || !/^\d{1,10}$/.test(header) || Number(header) < 1) throw new InvalidTimeoutError(maximum)
  // A client may shorten its deadline, never lengthen it past the service's own.
  return Math.min(Number(header), maximum)
}

export default fp(computeRequests, { name: 'compute-requests', dependencies: ['executor', 'uploads'] })
