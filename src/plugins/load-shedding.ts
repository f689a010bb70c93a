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
 * Watches the event loop's delay and the heap for the whole app (`app.isUnderPressure()`), and
 * refuses nothing itself: the compute scope sheds its own requests (`shedUnderPressure`), so
 * health, probe and metrics keep answering and show the trouble.
 */
async function loadShedding (app: FastifyInstance, options: LoadSheddingOptions) {
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxHeapUsedBytes: options.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    pressureHandler: () => undefined
  })
}

/** The compute scope's guard: 503 with Retry-After while the event loop or the heap is in trouble. */
export function shedUnderPressure (app: FastifyInstance) {
  app.addHook('onRequest', async () => {
    if (app.isUnderPressure()) throw new OverloadedError()
  })
}

export default fp(loadShedding, { name: 'load-shedding' })
