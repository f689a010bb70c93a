import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { ClientDisconnectedError, DeadlineExceededError, InvalidTimeoutError } from '../errors.js'
import { Cancellation } from '../executor/cancellation.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Marks a route whose handler runs CPU work on the executor: admission, deadline and load shedding apply. */
    compute?: boolean
  }
  interface FastifyRequest {
    /**
     * Aborts the request's tasks, queued or running: with a DeadlineExceededError past the deadline,
     * or a ClientDisconnectedError when the client goes away. Pass it to the executor.
     */
    computeSignal: Cancellation
  }
}

export const TIMEOUT_HEADER = 'x-timeout-ms'

/**
 * Every compute request gets a deadline (REQUEST_TIMEOUT_MS, or a shorter one from `X-Timeout-Ms`)
 * and an abort signal that fires past it or when the client disconnects. Work that cannot be
 * queued is refused before its body is even read.
 */
async function computeRequests (app: FastifyInstance, { requestTimeoutMs }: { requestTimeoutMs: number }) {
  const deadlines = new WeakMap<FastifyRequest, NodeJS.Timeout>()
  app.decorateRequest('computeSignal', null as unknown as Cancellation)

  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.compute !== true) return
    app.executor.admit()

    const timeoutMs = deadlineOf(request.headers[TIMEOUT_HEADER], requestTimeoutMs)
    const signal = request.computeSignal = new Cancellation()
    deadlines.set(request, setTimeout(() => signal.abort(new DeadlineExceededError(timeoutMs)), timeoutMs))
    // 'close' fires on the response once it is sent, or earlier if the connection goes away.
    reply.raw.once('close', () => {
      clearTimeout(deadlines.get(request))
      if (!reply.raw.writableFinished && !signal.aborted) {
        request.log.info('client disconnected before the answer; aborting its tasks')
        signal.abort(new ClientDisconnectedError())
      }
    })
  })

  // app.inject's responses never emit 'close'; this clears the deadline there too.
  app.addHook('onResponse', async (request) => {
    clearTimeout(deadlines.get(request))
  })
}

function deadlineOf (header: string | string[] | undefined, maximum: number): number {
  if (header === undefined) return maximum
  if (typeof header !== 'string' || !/^\d{1,10}$/.test(header) || Number(header) < 1) throw new InvalidTimeoutError(maximum)
  // A client may shorten its deadline, never lengthen it past the service's own.
  return Math.min(Number(header), maximum)
}

export default fp(computeRequests, { name: 'compute-requests', dependencies: ['executor'] })
