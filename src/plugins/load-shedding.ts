import { getHeapStatistics } from 'node:v8'
import underPressure from '@fastify/under-pressure'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { OverloadedError } from '../errors.js'

export interface LoadSheddingOptions {
  /** Mean event-loop delay over a second above which requests are refused; 0 turns the check off. */
  maxEventLoopDelayMs: number
  /** Heap used above which requests are refused; undefined means 90% of V8's heap limit. */
  maxHeapUsedBytes?: number
}

/**
 * 503 with Retry-After: 1, in the error shape, while the event loop's delay or the heap is over its
 * bound, for the routes of the scope it is registered in (the compute scope): health, probe and
 * metrics keep answering and show the trouble.
 */
async function loadShedding (app: FastifyInstance, options: LoadSheddingOptions) {
  await app.register(underPressure, {
    maxEventLoopDelay: options.maxEventLoopDelayMs,
    maxHeapUsedBytes: options.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9),
    customError: OverloadedError,
    retryAfter: 1
  })
}

export default fp(loadShedding, { name: 'load-shedding' })
