import { context, propagation } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources'
import { BatchSpanProcessor, ConsoleSpanExporter, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node'
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions'
import type { BuildInfo } from './build-info.js'
import type { Config } from './config.js'

let globalsSet = false

/**
 * The OpenTelemetry SDK, composed from its parts (@opentelemetry/sdk-node needs Node 22.15, above the service's 22.12): a tracer
 * provider with the service's resource (name and version, then OTEL_RESOURCE_ATTRIBUTES, then
 * OTEL_SERVICE_NAME, each winning over the one before, as the SDK's own order goes), batching spans to the OTLP/HTTP exporter (which reads
 * OTEL_EXPORTER_OTLP_* itself) or to the console. Undefined when tracing is off. `processor` replaces
 * the exporter (tests pass an in-memory one).
 */
export function createTracerProvider (config: Pick<Config, 'traceExporters' | 'OTEL_SERVICE_NAME'>, build: BuildInfo, processor?: SpanProcessor): NodeTracerProvider | undefined {
  const processors = processor !== undefined
    ? [processor]
    : config.traceExporters.map((name) => new BatchSpanProcessor(name === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter()))
  if (processors.length === 0) return undefined
  setGlobals()
  return new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: build.name, [ATTR_SERVICE_VERSION]: build.version })
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(config.OTEL_SERVICE_NAME === undefined ? null : resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.OTEL_SERVICE_NAME })),
    spanProcessors: processors
  })
}

/**
 * Once per process: the context manager that carries the active span across awaits, and the W3C
 * propagator that reads an incoming `traceparent`. The tracer provider itself stays per app (tests
 * build many) and is handed to the instrumentation, never made global.
 */
function setGlobals () {
  if (globalsSet) return
  globalsSet = true
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  propagation.setGlobalPropagator(new W3CTraceContextPropagator())
}
