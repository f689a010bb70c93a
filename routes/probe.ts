import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EXECUTOR_KINDS } from '../src/executor/executor.js'

export const probeReply = z.object({
  status: z.literal('ok'),
  executor: z.enum(EXECUTOR_KINDS),
  windowMs: z.number().describe('How many milliseconds of recent history the figures cover'),
  eventLoop: z.object({
    delayMs: z.object({ p50: z.number(), p99: z.number(), max: z.number() })
      .describe('Event-loop delay over the window, net of the 10 ms sampling interval'),
    utilization: z.number().describe('Share of the window the event loop was busy, 0..1')
  }),
  pool: z.object({
    threads: z.int(),
    queued: z.int(),
    running: z.int(),
    utilization: z.number().describe('Mean share of the window the worker threads were busy, 0..1'),
    maxQueue: z.int().nullable().describe('Tasks that may wait beyond one per thread before new work gets 503; null inline'),
    threadsReplaced: z.int().describe('Worker threads started since boot to replace ones that died or were terminated by an abort')
  }),
  memory: z.object({ rssBytes: z.int(), heapUsedBytes: z.int() })
}).describe('Event-loop and pool load over the last few seconds').meta({
  examples: [{
    status: 'ok',
    executor: 'pool',
    windowMs: 1013,
    eventLoop: { delayMs: { p50: 0.101, p99: 1.092, max: 1.215 }, utilization: 0.032 },
    pool: { threads: 2, queued: 0, running: 0, utilization: 0.159, maxQueue: 16, threadsReplaced: 0 },
    memory: { rssBytes: 98_566_144, heapUsedBytes: 14_680_064 }
  }]
})

/**
 * Answers from the event loop alone, never touching the pool: its round-trip time is itself the
 * measurement of how responsive the service is while the workers are saturated.
 */
export default async function probeRoutes (app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().get('/probe', {
    // Polled by tools and dashboards: no access line and no trace per poll; failures are still logged.
    config: { servedWhileClosing: true, otel: false },
    logLevel: 'warn',
    schema: { operationId: 'getProbe', tags: ['monitoring'], summary: 'Event-loop latency probe', response: { 200: probeReply } }
  }, async () => {
    const load = app.loadMonitor.snapshot()
    const { kind, threads, queued, running, maxQueue, threadsReplaced } = app.executor.stats()
    const { rss, heapUsed } = process.memoryUsage()
    return {
      status: 'ok' as const,
      executor: kind,
      windowMs: load.windowMs,
      eventLoop: load.eventLoop,
      pool: { threads, queued, running, utilization: load.poolUtilization, maxQueue, threadsReplaced },
      memory: { rssBytes: rss, heapUsedBytes: heapUsed }
    }
  })
}
