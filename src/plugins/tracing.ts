import { FastifyOtelInstrumentation } from '@fastify/otel'
import { context, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-node'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { performance } from 'node:perf_hooks'
import type { BuildInfo } from '../platform/build-info.js'
import type { Config } from '../platform/config.js'
import type { ExecutorEvent } from '../executor/executor.js'
import { createTracerProvider } from '../platform/tracing.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's trace id while tracing is on, for the access line. */
    traceId: string | undefined
  }
}

export interface TracingOptions {
  config: Pick<Config, 'traceExporters' | 'OTEL_SERVICE_NAME'>
  build: BuildInfo
  /** Replaces the exporter the configuration names (tests). */
  spanProcessor?: SpanProcessor
}

/**
 * Opt-in OpenTelemetry traces: a server span per request (@fastify/otel, which honours an incoming
 * `traceparent`) with the handler's span inside, and a span per task built here from the executor's
 * events. Off, it registers nothing but the `traceId` decoration. Registered before any route.
 * Routes polled by machines (health, probe, metrics) opt out with `config: { otel: false }`.
 */
async function tracingPlugin (app: FastifyInstance, { config, build, spanProcessor }: TracingOptions) {
  app.decorateRequest('traceId', undefined)
  const provider = createTracerProvider(config, build, spanProcessor)
  if (provider === undefined) return

  const instrumentation = new FastifyOtelInstrumentation({
    // Hook spans would be a dozen per request for little news; the request and handler spans stay.
    instrumentHooks: false,
    requestHook: (span, request) => {
      (request as { traceId?: string }).traceId = span.spanContext().traceId
      // The HTTP semantic conventions' server span name: `{method} {route}`, the method alone when no route matched.
      const route = request.routeOptions.url
      span.updateName(route === undefined ? request.method : `${request.method} ${route}`)
    }
  })
  instrumentation.setTracerProvider(provider)
  await app.register(instrumentation.plugin())

  const unsubscribe = app.executor.on(taskSpans(provider.getTracer(build.name, build.version)))
  app.addHook('onClose', async () => {
    unsubscribe()
    // Sends what the batch still holds.
    await provider.shutdown()
  })
}

/**
 * One span per task, from its settled event: it runs in the submitting request's async context, so
 * the active span (the handler's) is the parent. The span covers queueing and running; the
 * `started` event marks when the task left the queue for a thread.
 */
function taskSpans (tracer: Tracer) {
  const epoch = (at: number) => performance.timeOrigin + at
  return (event: ExecutorEvent) => {
    if (event.type !== 'task-settled' || event.queuedAt === undefined) return
    const settledAt = event.queuedAt + event.totalMs
    const span = tracer.startSpan(`task ${event.task}`, {
      kind: SpanKind.INTERNAL,
      startTime: epoch(event.queuedAt),
      attributes: {
        'compute.task': event.task,
        'compute.status': event.status,
        'compute.chunk': event.chunk,
        'compute.chunks': event.chunks,
        'compute.units': event.size,
        'compute.queued_ms': (event.startedAt ?? settledAt) - event.queuedAt,
        'compute.running_ms': event.startedAt === undefined ? 0 : settledAt - event.startedAt,
        'compute.kernel_ms': event.kernelMs
      }
    }, context.active())
    if (event.startedAt !== undefined) span.addEvent('started', epoch(event.startedAt))
    if (event.status === 'aborted') {
      span.setAttribute('compute.abort_reason', event.abortReason ?? 'unknown')
      span.setStatus({ code: SpanStatusCode.ERROR, message: `aborted: ${event.abortReason ?? 'unknown'}` })
    } else if (event.status === 'failed') {
      if (event.error instanceof Error) span.recordException(event.error)
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'task failed' })
    }
    span.end(epoch(settledAt))
  }
}

export default fp(tracingPlugin, { name: 'tracing', dependencies: ['executor'] })
