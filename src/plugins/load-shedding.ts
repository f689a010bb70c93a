import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { OverloadedError } from '../errors.js'

export interface LoadSheddingOptions {
  /** Event-loop delay over a second (the mean, or one block as long) above which requests are refused; 0 turns the check off. */
  maxEventLoopDelayMs: number
  /** Heap used above which requests are refused; undefined means 90% of V8's heap limit. */
  maxHeapUsedBytes?: number
}

const SAMPLE_INTERVAL_MS = 1000
/** Sampling interval of the delay histogram; the mean includes it, so it is taken off. */
const RESOLUTION_MS = 10

/**
 * 503 with Retry-After: 1, in the error shape, while the event loop's delay or the heap is over its
 * bound, for the routes of the scope it is registered in (the compute scope): health, probe and
 * metrics keep answering and show the trouble.
 *
 * The same rule @fastify/under-pressure applied, sampled without it: its timer calls
 * process.memoryUsage(), which opens /proc/self/stat and throws EMFILE when descriptors run out, an
 * exception in a timer that ended the process (issue 17). V8's heap statistics need no descriptor.
 */
async function loadShedding (app: FastifyInstance, options: LoadSheddingOptions) {
  const maxHeapUsedBytes = options.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * 0.9)
  const histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  histogram.enable()
  let delayMs = 0
  let heapUsedBytes = 0
  let sampledAt = performance.now()
  // The longest single delay so far in this window: one long block is one sample among a hundred
  // short ones in the mean, and the histogram records it (its timer runs before the requests it held).
  const longestMs = () => histogram.count === 0 ? 0 : Math.max(0, histogram.max / 1e6 - RESOLUTION_MS)
  const timer = setInterval(() => {
    const now = performance.now()
    // This timer's own lateness sees a block too, should it run before the histogram's.
    const lateMs = now - sampledAt - SAMPLE_INTERVAL_MS
    sampledAt = now
    // No sample in a whole interval means the loop was blocked throughout.
    const meanMs = histogram.count === 0 ? Infinity : Math.max(0, histogram.mean / 1e6 - RESOLUTION_MS)
    delayMs = Math.max(meanMs, longestMs(), lateMs)
    histogram.reset()
    heapUsedBytes = getHeapStatistics().used_heap_size
  }, SAMPLE_INTERVAL_MS)
  timer.unref()
  app.addHook('onClose', async () => {
    clearInterval(timer)
    histogram.disable()
  })

  app.addHook('onRequest', async () => {
    const delayed = options.maxEventLoopDelayMs > 0 && Math.max(delayMs, longestMs()) > options.maxEventLoopDelayMs
    if (!delayed && heapUsedBytes <= maxHeapUsedBytes) return
    // A second: what the delay is sampled over (the error handler's default Retry-After).
    throw new OverloadedError()
  })
}

export default fp(loadShedding, { name: 'load-shedding' })
