import { getHeapStatistics } from 'node:v8'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { OverloadedError } from '../errors.js'

export interface LoadSheddingOptions {
  /** Mean event-loop delay over a second above which compute requests are refused; 0 turns the check off. */
  maxEventLoopDelayMs: number
  /** Heap used above which compute requests are refused; undefined means 90% of V8's heap limit. */
  maxHeapUsedBytes?: number
}

/**
 * Sheds compute requests with a 503 when the event loop itself is in trouble (its delay or the
 * heap), before they add to it. Health, probe and metrics keep answering: they are how operators
 * see the trouble, and readiness reports it.
 */
async function loadShedding (app: FastifyInstance, options: LoadSheddingOptions) {
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxHeapUsedBytes: options.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    retryAfter: 1,
    pressureHandler: async (request) => {
      if (request.routeOptions.config.compute === true) throw new OverloadedError()
    }
  })
}

export default fp(loadShedding, { name: 'load-shedding' })
