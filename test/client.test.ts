import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { createComputeClient, type ComputeServiceClient, type ErrorBody } from '../client/index.js'
import { projectPath } from '../src/platform/paths.js'
import { startServer, type ServerProcess } from './support/server-process.js'
import { closedForm } from './helper.js'

const KEY = 'client-key-0123456789abcdef'
const LIMITED_KEY = 'limited-key-0123456789abcdef'
const RATE_LIMIT_MAX = 30
const contract = JSON.parse(readFileSync(projectPath('client/openapi.json'), 'utf8')) as { paths: Record<string, Record<string, unknown>> }

describe('the typed client (client/), against the real server', () => {
  let server: ServerProcess
  let client: ComputeServiceClient
  /** Every operation the client has called, as `METHOD /path/template`. */
  const called = new Set<string>()

  beforeAll(async () => {
    server = await startServer({
      LOG_LEVEL: 'warn', POOL_THREADS: '2', API_KEYS: `${KEY},${LIMITED_KEY}`, RATE_LIMIT_MAX: String(RATE_LIMIT_MAX), BODY_LIMIT_BYTES: '4096'
    })
    client = createComputeClient(server.url, { apiKey: KEY })
    client.use({ onRequest: ({ request, schemaPath }) => { called.add(`${request.method} ${schemaPath}`) } })
  })
  afterAll(async () => { await server.stop() })

  it('computes a sum of squares, with its headers typed', async () => {
    const { data, error, response } = await client.POST('/v1/sum-of-squares', { body: { start: -3, end: 1_000_000 }, params: { header: { 'x-request-id': 'client-test-1' } } })
    expect(error).toBeUndefined()
    expect(data).toMatchObject({ result: closedForm(-3, 1_000_000).toString(), terms: 1_000_003 })
    expectTypeOf(data!.result).toEqualTypeOf<string>()
    expect(response.headers.get('x-request-id')).toBe('client-test-1')
    expect(response.headers.get('server-timing')).toMatch(/^kernel;dur=[\d.]+, total;dur=[\d.]+$/)
  })

  it('works as docs/observability.md shows it', async () => {
    const client = createComputeClient(server.url, { apiKey: KEY })
    const { data, error } = await client.POST('/v1/sum-of-squares', { body: { start: -3, end: 1_000_000_000 } })
    const shown = error === undefined ? data.result : `${error.code}: ${error.detail}`
    expect(shown).toBe(closedForm(-3, 1_000_000_000).toString())
  })

  it('sums JSON and binary values', async () => {
    const json = await client.POST('/v1/sum', { params: { query: { mode: 'exact' } }, body: { values: [0.1, 0.2, 0.3] } })
    expect(json.data).toMatchObject({ sum: 0.6, count: 3, mode: 'exact' })
    const binary = await client.POST('/v1/sum', {
      params: { query: { mode: 'fast' } },
      body: new Blob([new Float64Array([1, 2, 3.5])]),
      bodySerializer: (body) => body,
      headers: { 'content-type': 'application/octet-stream' }
    })
    expect(binary.data).toMatchObject({ sum: 6.5, count: 3, mode: 'fast' })
  })

  it('multiplies JSON and binary vectors, and gets 422 for a non-finite one', async () => {
    const json = await client.POST('/v1/dot', { params: { query: { mode: 'exact' } }, body: { x: [1e200, 1e200, 3], y: [1e200, -1e200, 0.1] } })
    expect(json.data).toMatchObject({ dot: 0.30000000000000004, count: 3, mode: 'exact' })
    const binary = await client.POST('/v1/dot', {
      params: { query: { mode: 'fast' } },
      body: new Blob([new Float64Array([1, 2, 3, 4])]),
      bodySerializer: (body) => body,
      headers: { 'content-type': 'application/octet-stream' }
    })
    expect(binary.data).toMatchObject({ dot: 11, count: 2, mode: 'fast' })
    const nonFinite = await client.POST('/v1/dot', {
      params: { query: {} },
      body: new Blob([new Float64Array([1, NaN])]),
      bodySerializer: (body) => body,
      headers: { 'content-type': 'application/octet-stream' }
    })
    expect(nonFinite.error).toMatchObject({ statusCode: 422, message: 'y[0] is NaN: only finite numbers are accepted' })
  })

  it('reads the statistics of JSON and binary values, with null where Python raises', async () => {
    const json = await client.POST('/v1/stats', { body: { values: [2.5, 3.25, 5.5, 11.25] } })
    expect(json.data).toMatchObject({ count: 4, sum: 22.5, mean: 5.625, variance: 15.6875, pvariance: 11.765625, min: 2.5, max: 11.25 })
    const binary = await client.POST('/v1/stats', {
      body: new Blob([new Float64Array([7])]),
      bodySerializer: (body) => body,
      headers: { 'content-type': 'application/octet-stream' }
    })
    expect(binary.data).toMatchObject({ count: 1, mean: 7, variance: null, stdev: null, pvariance: 0 })
  })

  it('reads health, readiness, the probe, the version and the metrics', async () => {
    expect((await client.GET('/health/live')).data).toEqual({ status: 'ok' })
    expect((await client.GET('/health/ready')).data).toEqual({ status: 'ready' })
    const probe = await client.GET('/probe')
    expect(probe.data?.pool.threads).toBe(2)
    const version = await client.GET('/version')
    expect(version.data).toMatchObject({ name: 'compute-service', node: expect.stringMatching(/^v\d+/) })
    const metrics = await client.GET('/metrics', { parseAs: 'text' })
    expect(metrics.data).toMatch(/^compute_build_info\{/m)
  })

  it('gets each error as the typed error body: 400, 401, 413, 415, 422, 504', async () => {
    const invalid = await client.POST('/v1/sum-of-squares', { body: { start: 10, end: 5 } })
    expectTypeOf(invalid.error).toExtend<ErrorBody | undefined>()
    // Each response's codes are a union the caller can switch on.
    expectTypeOf<'SVC_UNAUTHORIZED'>().toExtend<NonNullable<typeof invalid.error>['code']>()
    expectTypeOf<'SVC_JOB_NOT_FOUND'>().not.toExtend<NonNullable<typeof invalid.error>['code']>()
    expect(invalid.response.status).toBe(400)
    expect(invalid.response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8')
    expect(invalid.error).toMatchObject({ status: 400, code: 'FST_ERR_VALIDATION', statusCode: 400, issues: [{ path: 'body.end' }] })

    const anonymous = createComputeClient(server.url)
    anonymous.use({ onRequest: ({ request, schemaPath }) => { called.add(`${request.method} ${schemaPath}`) } })
    const unauthorized = await anonymous.POST('/v1/sum', { params: { query: {} }, body: { values: [1] } })
    expect(unauthorized.error).toMatchObject({ code: 'SVC_UNAUTHORIZED', statusCode: 401, message: expect.stringMatching(/API key/) })

    const tooLarge = await client.POST('/v1/sum', { params: { query: {} }, body: { values: Array.from({ length: 2000 }, (_, i) => i) } })
    expect(tooLarge.error).toMatchObject({ code: 'SVC_BODY_TOO_LARGE', statusCode: 413 })

    const unsupported = await client.POST('/v1/sum-of-squares', {
      body: { end: 10 }, bodySerializer: () => 'end=10', headers: { 'content-type': 'application/x-www-form-urlencoded' }
    })
    expect(unsupported.error).toMatchObject({ code: 'SVC_UNSUPPORTED_MEDIA_TYPE', statusCode: 415, message: expect.stringMatching(/application\/json/) })

    const overflow = await client.POST('/v1/sum', { params: { query: { mode: 'exact' } }, body: { values: [1e308, 1e308] } })
    expect(overflow.error).toMatchObject({ code: 'SVC_FLOAT64_OVERFLOW', statusCode: 422, message: expect.stringMatching(/overflows float64/) })

    const late = await client.POST('/v1/sum-of-squares', { body: { end: 9_000_000_000, chunks: 1 }, params: { header: { 'x-timeout-ms': '100' } } })
    expect(late.error).toMatchObject({ code: 'SVC_DEADLINE_EXCEEDED', statusCode: 504, message: 'The request did not finish within its deadline of 100 ms' })
  })

  it('cancels a running job, gets 409 deleting it while it runs, and finds it in the list of cancelled jobs', async () => {
    const created = await client.POST('/v1/jobs', { body: { task: 'sum-of-squares', input: { start: 0, end: 1e13 } } })
    const id = created.data!.id
    expect((await client.DELETE('/v1/jobs/{id}', { params: { path: { id } } })).error).toMatchObject({ statusCode: 409 })
    const cancelled = await client.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } })
    expect(cancelled.data).toMatchObject({ id, status: 'cancelled' })
    const listed = await client.GET('/v1/jobs', { params: { query: { status: 'cancelled', pageSize: 10 } } })
    expect(listed.data!.jobs.map((job) => job.id)).toContain(id)
  })

  it('starts a job, follows it to its end, reads it and deletes it, with the job document typed', async () => {
    const created = await client.POST('/v1/jobs', { body: { task: 'sum-of-squares', input: { start: 0, end: 1000 } } })
    expect(created.response.status).toBe(202)
    const id = created.data!.id
    expect(created.response.headers.get('location')).toBe(`/v1/jobs/${id}`)
    const events = await client.GET('/v1/jobs/{id}/events', { params: { path: { id } }, parseAs: 'text' })
    expect(events.data).toMatch(/^event: done$/m)
    const read = await client.GET('/v1/jobs/{id}', { params: { path: { id } } })
    expectTypeOf(read.data!.status).toEqualTypeOf<'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'>()
    expect(read.data).toMatchObject({ status: 'succeeded', result: closedForm(0, 1000).toString() })
    expect((await client.DELETE('/v1/jobs/{id}', { params: { path: { id } } })).data).toMatchObject({ id, status: 'succeeded' })
    const gone = await client.GET('/v1/jobs/{id}', { params: { path: { id } } })
    expect(gone.error).toMatchObject({ code: 'SVC_JOB_NOT_FOUND', statusCode: 404 })
  })

  it('gets 429 with Retry-After and the rate-limit headers once a key is over its limit', async () => {
    const limited = createComputeClient(server.url, { apiKey: LIMITED_KEY })
    for (let i = 0; i < RATE_LIMIT_MAX; i++) expect((await limited.POST('/v1/sum-of-squares', { body: { end: 10 } })).response.status).toBe(200)
    const { error, response } = await limited.POST('/v1/sum-of-squares', { body: { end: 10 } })
    expect(error).toMatchObject({ code: 'SVC_RATE_LIMITED', statusCode: 429 })
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(response.headers.get('ratelimit-limit')).toBe(String(RATE_LIMIT_MAX))
  })

  it('has called every operation of the contract', () => {
    const operations = Object.entries(contract.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`))
    expect([...called].sort()).toEqual(operations.sort())
  })
})
