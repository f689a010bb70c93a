import { performance } from 'node:perf_hooks'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { logDisconnected } from '../access-log.js'
import { ClientDisconnectedError, DeadlineExceededError, InvalidTimeoutError } from '../errors.js'
import { Cancellation } from '../executor/cancellation.js'
import type { TaskName } from '../executor/executor.js'

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * Aborts the request's tasks, queued or running: with a DeadlineExceededError past the deadline,
     * or a ClientDisconnectedError when the client goes away. Set on compute routes only.
     */
    computeSignal: Cancellation
    /** When the handler started (performance.now()): what `elapsedMs` counts from. */
    computeStartedAt: number
    /** Kernel time and chunks of the request's work, once it has run (set by serverTiming): for the access line. */
    computeRun: { kernelMs: number, chunks: number } | null
  }
}

export const TIMEOUT_HEADER = 'x-timeout-ms'

/**
 * Every request in the compute scope gets a deadline (REQUEST_TIMEOUT_MS, or a shorter one from
 * `X-Timeout-Ms`) and an abort signal that fires past it or when the client disconnects. A route
 * named for a task (`/v1/<task>`) is refused before its body is read while that queue is full.
 */
async function computeRequests (app: FastifyInstance, { requestTimeoutMs }: { requestTimeoutMs: number }) {
  const deadlines = new WeakMap<FastifyRequest, NodeJS.Timeout>()
  const tasks = new Set<string>(app.executor.tasks)
  app.decorateRequest('computeSignal', null as unknown as Cancellation)
  app.decorateRequest('computeStartedAt', 0)
  app.decorateRequest('computeRun', null)

  app.addHook('onRequest', async (request, reply) => {
    const task = taskOf(request.routeOptions.url)
    if (task !== undefined && tasks.has(task)) app.executor.admit(task as TaskName)

    const timeoutMs = deadlineOf(request.headers[TIMEOUT_HEADER], requestTimeoutMs)
    const signal = request.computeSignal = new Cancellation()
    deadlines.set(request, setTimeout(() => signal.abort(new DeadlineExceededError(timeoutMs)), timeoutMs))
    // 'close' fires on the response once it is sent, or earlier if the connection goes away.
    reply.raw.once('close', () => {
      clearTimeout(deadlines.get(request))
      if (!reply.raw.writableFinished && !signal.aborted) {
        signal.abort(new ClientDisconnectedError())
        logDisconnected(request, reply)
      }
    })
  })

  app.addHook('preHandler', async (request) => {
    request.computeStartedAt = performance.now()
  })

  // app.inject's responses never emit 'close'; this clears the deadline there too.
  app.addHook('onResponse', async (request) => {
    clearTimeout(deadlines.get(request))
  })
}

function taskOf (url: string | undefined): string | undefined {
  return url?.slice(url.lastIndexOf('/') + 1)
}

function deadlineOf (header: string | string[] | undefined, maximum: number): number {
  if (header === undefined) return maximum
  if (typeof header !== 'string' || !/^\d{1,10}$/.test(header) || Number(header) < 1) throw new InvalidTimeoutError(maximum)
  // A client may shorten its deadline, never lengthen it past the service's own.
  return Math.min(Number(header), maximum)
}

export default fp(computeRequests, { name: 'compute-requests', dependencies: ['executor'] })
