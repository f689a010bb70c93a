import Fastify, { LogController, type FastifyInstance, type RouteShorthandOptions } from 'fastify'
import fp from 'fastify-plugin'
import { Gauge, Registry } from 'prom-client'
import { z } from 'zod'
import type { BuildInfo } from '../platform/build-info.js'
import type { Config } from '../platform/config.js'
import { createExecutorMetrics } from '../metrics/executor-metrics.js'
import { createHttpMetrics } from '../metrics/http-metrics.js'
import { createJobMetrics, watchActiveJobs } from '../metrics/job-metrics.js'
import { registerChunkQueueGauges } from '../metrics/chunk-queue-metrics.js'
import { CHUNK_QUEUE } from '../jobs/redis-chunk-queue.js'
import { registerLoadGauges } from '../metrics/load-gauges.js'
import { processMetrics } from '../metrics/process-metrics.js'
import { notReadyError } from '../http/readiness.js'
import { requestId } from '../http/request-id.js'
import { logAcceptErrors } from './connections.js'
import errorHandler from './error-handler.js'
import { registerQueueBoard } from './queue-board.js'

export interface MetricsOptions {
  config: Pick<Config, 'HOST' | 'METRICS_PORT'>
  /** Becomes the labels of `compute_build_info`, as GET /version shows them. */
  build: BuildInfo
}

const exposition = z.string().meta({
  examples: ['# HELP compute_pool_threads Worker threads in the pool (0 with the inline executor)\n# TYPE compute_pool_threads gauge\ncompute_pool_threads 2\n']
})

/**
 * Prometheus metrics at GET /metrics: process defaults, HTTP durations by route, the pool's
 * gauges read at scrape time, and counters fed by executor and job events. One registry per app, so
 * tests can build many apps in one process. With METRICS_PORT and a BullMQ job back end, its
 * listener serves bull-board too (queue-board.ts).
 */
async function metricsPlugin (app: FastifyInstance, { config, build }: MetricsOptions) {
  const registry = new Registry()
  // Always 1: the labels are the information, and `max by (version) (compute_build_info)` shows a rollout.
  new Gauge({ name: 'compute_build_info', help: 'The running build: name, version, git commit and Node.js version, as GET /version', labelNames: ['name', 'version', 'commit', 'node'] as const, registers: [registry] })
    .set({ ...build }, 1)
  const recordHttp = createHttpMetrics(registry)
  registerLoadGauges(registry, { stats: () => app.executor.stats(), load: () => app.loadMonitor.snapshot(), uploads: () => app.uploads.stats(), jsonParses: () => app.uploads.jsonParses.stats(), ready: () => notReadyError(app) === undefined })
  const unsubscribe = [
    app.executor.on(createExecutorMetrics(registry, app.executor.tasks)),
    app.jobs.on(createJobMetrics(registry)),
    watchActiveJobs(registry, app.jobs)
  ]
  const chunkQueue = app.jobs.queues?.find(({ name }) => name === CHUNK_QUEUE)
  if (chunkQueue !== undefined) registerChunkQueueGauges(registry, chunkQueue)
  const served = Registry.merge([processMetrics(), registry])

  app.addHook('onResponse', async (request, reply) => { recordHttp(request, reply) })
  app.addHook('onClose', async () => { for (const stop of unsubscribe) stop() })

  const route: RouteShorthandOptions = {
    // Scraped every few seconds: no access line and no trace per scrape; failures are still logged.
    config: { servedWhileClosing: true, otel: false },
    logLevel: 'warn',
    schema: {
      operationId: 'getMetrics',
      tags: ['monitoring'],
      summary: 'Prometheus metrics',
      response: { 200: { description: 'Prometheus text exposition format', content: { [served.contentType]: { schema: exposition } } } }
    }
  }
  const scrape = async (): Promise<string> => served.metrics()

  if (config.METRICS_PORT === undefined) {
    app.get('/metrics', route, async (_request, reply) => reply.type(served.contentType).send(await scrape()))
    return
  }

  // A listener of its own, so the port can stay inside the cluster while the API port is exposed.
  // Scrapes are not worth a log line each: errors are still logged by the error handler.
  const listener = Fastify({ loggerInstance: app.log.child({ listener: 'metrics' }), genReqId: requestId, logController: new LogController({ disableRequestLogging: true }) })
  await listener.register(errorHandler)
  listener.get('/metrics', async (_request, reply) => reply.type(served.contentType).send(await scrape()))
  // Only here: without METRICS_PORT the public port would be the board's, and the embedded back end has no queue.
  if (app.jobs.queues !== undefined && app.jobs.queues.length > 0) await registerQueueBoard(listener, app.jobs.queues)
  logAcceptErrors(listener.server, app.log)
  // Opened when the app is ready, not on listen: an onListen hook's errors are only logged, and a
  // metrics port already in use must stop start-up, not go unnoticed.
  app.addHook('onReady', async () => { await listener.listen({ port: config.METRICS_PORT!, host: config.HOST }) })
  app.addHook('onClose', async () => { await listener.close() })
}

export default fp(metricsPlugin, { name: 'metrics', dependencies: ['executor', 'load-monitor', 'uploads', 'jobs', 'lifecycle'] })
