import { Writable } from 'node:stream'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-node'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../src/platform/config.js'
import { loggerOptions } from '../src/platform/logger.js'
import { splitRange } from '../src/compute/split-range.js'
import type { ComputeRoute } from '../src/plugins/compute-scope.js'
import { buildTestApp, json } from './helper.js'

/**
 * Sum-of-squares chunks whose cost is declared far below what they take, as a machine faster than
 * the estimates would see them: admitted against a short deadline (src/executor/doomed-work.ts), so
 * the deadline finds them running and waiting, which is what the deadline test traces.
 */
const underestimated: ComputeRoute = async (app) => {
  app.post('/v1/underestimated', async (request) => {
    const inputs = splitRange({ start: 0, end: 8_000_000_000 }, 4)
    await app.executor.executeAll('sum-of-squares', inputs, {
      signal: request.computeSignal, client: request.computeClient, deadline: request.computeDeadline, costMs: 150
    })
    return {}
  })
}

const kernelOf = (header: string) => Number(/kernel;dur=([\d.]+)/.exec(header)![1])
const tasksOf = (spans: ReadableSpan[]) => spans.filter((span) => span.name.startsWith('task ')).sort((a, b) => Number(a.attributes['compute.chunk']) - Number(b.attributes['compute.chunk']))

describe('tracing on (in-memory exporter)', () => {
  let app: FastifyInstance
  const exporter = new InMemorySpanExporter()
  const lines: Array<Record<string, unknown>> = []
  beforeAll(async () => {
    vi.stubEnv('OTEL_RESOURCE_ATTRIBUTES', 'deployment.environment.name=tracing-test,service.name=from-attributes')
    const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
    app = await buildTestApp({ POOL_THREADS: '2', ENABLE_TEST_FAULTS: 'true' }, {
      computeRoutes: [underestimated],
      spanProcessor: new SimpleSpanProcessor(exporter),
      logger: { ...(loggerOptions('info', false) as object), stream }
    })
  })
  afterAll(async () => {
    await app.close()
    vi.unstubAllEnvs()
  })
  beforeEach(() => { exporter.reset() })

  const sumOfSquares = (payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, ...headers }, payload })

  it('makes one trace per request: a server span, the handler inside it, and a span per task inside that', async () => {
    const response = await sumOfSquares({ end: 4_000_000, chunks: 4 })
    expect(response.statusCode).toBe(200)
    const spans = exporter.getFinishedSpans()
    expect(new Set(spans.map((span) => span.spanContext().traceId)).size).toBe(1)
    const server = spans.find((span) => span.kind === SpanKind.SERVER)!
    expect(server.attributes).toMatchObject({ 'http.route': '/v1/sum-of-squares', 'http.response.status_code': 200 })
    expect(server.name).toBe('POST /v1/sum-of-squares')
    // OTEL_RESOURCE_ATTRIBUTES adds to the resource, and names the service where OTEL_SERVICE_NAME does not.
    expect(server.resource.attributes).toMatchObject({ 'service.name': 'from-attributes', 'deployment.environment.name': 'tracing-test' })
    expect(server.parentSpanContext).toBeUndefined()
    const handler = spans.find((span) => span.name.startsWith('handler'))!
    expect(handler.parentSpanContext?.spanId).toBe(server.spanContext().spanId)
    const tasks = tasksOf(spans)
    expect(tasks.map((task) => task.attributes['compute.chunk'])).toEqual([0, 1, 2, 3])
    for (const task of tasks) {
      expect(task.parentSpanContext?.spanId).toBe(handler.spanContext().spanId)
      expect(task.attributes).toMatchObject({ 'compute.task': 'sum-of-squares', 'compute.status': 'completed', 'compute.chunks': 4, 'compute.units': 1_000_000 })
      expect(task.status.code).toBe(SpanStatusCode.UNSET)
      // Queued, then running: the kernel runs inside the running time.
      const { 'compute.queued_ms': queued, 'compute.running_ms': running, 'compute.kernel_ms': kernel } = task.attributes as Record<string, number>
      expect(queued).toBeGreaterThanOrEqual(0)
      expect(running).toBeGreaterThanOrEqual(kernel! - 0.01)
      expect(task.events.map((event) => event.name)).toEqual(['started'])
    }
    const second = await sumOfSquares({ end: 100_000, chunks: 2 })
    expect(second.statusCode).toBe(200)
    const traces = new Set(exporter.getFinishedSpans().map((span) => span.spanContext().traceId))
    expect(traces.size).toBe(2)
  })

  it('has task run times that add up to the Server-Timing kernel time within 1 ms', async () => {
    const response = await sumOfSquares({ start: -5, end: 30_000_000, chunks: 6 })
    const kernels = tasksOf(exporter.getFinishedSpans()).map((task) => task.attributes['compute.kernel_ms'] as number)
    expect(kernels).toHaveLength(6)
    expect(Math.abs(kernels.reduce((sum, ms) => sum + ms, 0) - kernelOf(response.headers['server-timing'] as string))).toBeLessThan(1)
  })

  it('continues the trace of an incoming traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const parentId = '00f067aa0ba902b7'
    await sumOfSquares({ end: 1_000_000, chunks: 2 }, { traceparent: `00-${traceId}-${parentId}-01` })
    const spans = exporter.getFinishedSpans()
    expect(spans.length).toBeGreaterThan(3)
    for (const span of spans) expect(span.spanContext().traceId).toBe(traceId)
    expect(spans.find((span) => span.kind === SpanKind.SERVER)!.parentSpanContext?.spanId).toBe(parentId)
  })

  it('marks the tasks of a request past its deadline with an error status and the reason, queued ones included', async () => {
    // Two threads, four chunks of 1-3 s each (declared at 150 ms): two run and two wait when the 200 ms deadline passes.
    const response = await app.inject({ method: 'POST', url: '/v1/underestimated', headers: { 'x-timeout-ms': '200' } })
    expect(response.statusCode).toBe(504)
    await new Promise((resolve) => setTimeout(resolve, 100)) // the aborted tasks settle after the reply
    const tasks = tasksOf(exporter.getFinishedSpans())
    expect(tasks).toHaveLength(4)
    for (const task of tasks) {
      expect(task.status).toEqual({ code: SpanStatusCode.ERROR, message: 'aborted: deadline' })
      expect(task.attributes).toMatchObject({ 'compute.status': 'aborted', 'compute.abort_reason': 'deadline' })
    }
    const neverRan = tasks.filter((task) => task.events.length === 0)
    expect(neverRan).toHaveLength(2)
    for (const task of neverRan) expect(task.attributes['compute.running_ms']).toBe(0)
  })

  it('records a failed task\'s exception', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'throw' } })
    expect(response.statusCode).toBe(500)
    const [task] = tasksOf(exporter.getFinishedSpans())
    expect(task!.status.code).toBe(SpanStatusCode.ERROR)
    expect(task!.events.find((event) => event.name === 'exception')?.attributes?.['exception.message']).toBe('test fault: task threw')
  })

  it('leaves out the routes machines poll: health, probe, metrics', async () => {
    for (const url of ['/health/live', '/health/ready', '/probe', '/metrics']) expect((await app.inject({ method: 'GET', url })).statusCode).toBe(200)
    expect(exporter.getFinishedSpans()).toEqual([])
    await app.inject({ method: 'GET', url: '/version' })
    expect(exporter.getFinishedSpans().map((span) => span.attributes['http.route'])).toContain('/version')
  })

  it('puts the trace id in the access line', async () => {
    const response = await sumOfSquares({ end: 100_000, chunks: 1 })
    const traceId = exporter.getFinishedSpans()[0]!.spanContext().traceId
    const line = lines.find((l) => l.reqId === response.headers['x-request-id'] && l.msg === 'request completed')
    expect(line).toMatchObject({ traceId })
  })
})

describe('tracing off (the default)', () => {
  it('registers no instrumentation and leaves the trace id out of the access line', async () => {
    const lines: Array<Record<string, unknown>> = []
    const stream = new Writable({ write (chunk, _encoding, done) { lines.push(JSON.parse(String(chunk))); done() } })
    const app = await buildTestApp({}, { logger: { ...(loggerOptions('info', false) as object), stream } })
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: { ...json, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' }, payload: { end: 10 } })
    expect(app.hasPlugin('@fastify/otel')).toBe(false)
    await app.close()
    expect(response.statusCode).toBe(200)
    const line = lines.find((l) => l.msg === 'request completed')
    expect(line).toBeDefined()
    expect(line).not.toHaveProperty('traceId')
  })

  it.each([
    [{}, []],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, ['otlp']],
    [{ OTEL_TRACES_EXPORTER: 'console' }, ['console']],
    [{ OTEL_TRACES_EXPORTER: 'otlp, console' }, ['otlp', 'console']],
    [{ OTEL_TRACES_EXPORTER: 'console,none' }, []],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, ['otlp']],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, ['otlp']],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' }, []],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }, []]
  ])('with %j exports traces to %j', (env, expected) => {
    expect(loadConfig(env).traceExporters).toEqual(expected)
  })

  it('refuses an exporter it does not have, naming it', () => {
    expect(() => loadConfig({ OTEL_TRACES_EXPORTER: 'otlp,zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/)
  })
})
