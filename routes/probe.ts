import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { EXECUTOR_KINDS } from '../src/executor/executor.js'
import { readMemory } from '../src/platform/process-memory.js'

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
    queuedMs: z.number().describe('Estimated milliseconds of work waiting for a thread'),
    waitingClients: z.int().describe('Clients (API keys, or addresses) with work waiting; the queue is shared fairly between them'),
    running: z.int(),
    utilization: z.number().describe('Mean share of the window the worker threads were busy, 0..1'),
    maxQueueMs: z.int().nullable().describe('Estimated milliseconds of work that may wait before new work gets 503; null inline'),
    threadsReplaced: z.int().describe('Worker threads started since boot to replace ones that died or were terminated by an abort')
  }),
  uploads: z.object({
    inFlight: z.int().describe('Requests holding upload memory: bodies arriving, or read and not yet answered'),
    reservedBytes: z.int().describe('Upload memory reserved for them, JSON counted at its parsing cost'),
    maxBytes: z.int().describe('UPLOAD_MEMORY_MAX_BYTES: past it, uploads get 503'),
    clients: z.int().describe('Clients (API keys, or addresses) holding upload memory; each may hold UPLOAD_MEMORY_PER_CLIENT_BYTES, past it 429'),
    jsonParseQueuedBytes: z.int().describe('Characters of JSON bodies read and waiting for their turn to be parsed; past JSON_PARSE_MAX_BYTES, 503')
  }),
  memory: z.object({
    rssBytes: z.int().nullable().describe('null when it could not be read: no file descriptor was free (EMFILE)'),
    heapUsedBytes: z.int()
  })
}).describe('Event-loop and pool load over the last few seconds').meta({
  examples: [{
    status: 'ok',
    executor: 'pool',
    windowMs: 1013,
    eventLoop: { delayMs: { p50: 0.101, p99: 1.092, max: 1.215 }, utilization: 0.032 },
    pool: { threads: 2, queued: 0, queuedMs: 0, waitingClients: 0, running: 0, utilization: 0.159, maxQueueMs: 2000, threadsReplaced: 0 },
    uploads: { inFlight: 0, reservedBytes: 0, maxBytes: 268_435_456, clients: 0, jsonParseQueuedBytes: 0 },
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
  }, async (request) => {
    const load = app.loadMonitor.snapshot()
    const { kind, threads, queued, queuedMs, waitingClients, running, maxQueueMs, threadsReplaced } = app.executor.stats()
    const { inFlight, reservedBytes, maxBytes, clients } = app.uploads.stats()
    const memory = readMemory((error) => { request.log.warn({ err: error }, 'probe: resident memory unknown') })
    return {
      status: 'ok' as const,
      executor: kind,
      windowMs: load.windowMs,
      eventLoop: load.eventLoop,
      pool: { threads, queued, queuedMs, waitingClients, running, utilization: load.poolUtilization, maxQueueMs, threadsReplaced },
      uploads: { inFlight, reservedBytes, maxBytes, clients, jsonParseQueuedBytes: app.uploads.jsonParses.stats().queuedBytes },
      memory
    }
  })
}
