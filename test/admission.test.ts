import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildTestApp, json } from './helper.js'

const spin = (app: FastifyInstance, ms: number) =>
  app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'spin', ms } })

async function waitFor (condition: () => boolean) {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5))
}

describe('backpressure', () => {
  let app: FastifyInstance
  afterEach(async () => { await app.close() })

  it('refuses work that cannot be queued with 503 and Retry-After at once, in the error shape', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE: '1', ENABLE_TEST_FAULTS: 'true' })
    const running = spin(app, 1500)
    const queued = spin(app, 10)
    await waitFor(() => app.executor.stats().queued === 1)

    const started = Date.now()
    const refused = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 } })
    expect(Date.now() - started).toBeLessThan(500) // at once, not after the queue drains
    expect(refused.statusCode).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/capacity/), requestId: expect.any(String) })

    expect((await running).statusCode).toBe(200)
    expect((await queued).statusCode).toBe(200)
    const after = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 } })
    expect(after.json().result).toBe('285')
  })

  it('stays ready while saturated: the refusal is each request\'s 503, and the probe shows the full queue', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE: '0', ENABLE_TEST_FAULTS: 'true' })
    const running = spin(app, 500)
    await waitFor(() => app.executor.stats().running === 1)
    const refused = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 1_000_000 } })
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    const probe = await app.inject({ method: 'GET', url: '/probe' })
    await running
    expect([refused.statusCode, refused.headers['retry-after'], refused.json().message]).toEqual([503, '1', expect.stringMatching(/capacity/)])
    // A balancer that took every saturated replica out would be left with none, and answer with its own error.
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready' }])
    expect(probe.json().pool).toMatchObject({ threads: 1, running: 1, queued: 0, maxQueue: 0 })
  })

  it('admits a request of many chunks whole, beyond the queue bound, rather than starving it', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE: '1' })
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 100_000, chunks: 64 } })
    expect(response.json()).toMatchObject({ chunks: 64 })
  })

  it('counts rejections as executor events, each under the task its route runs', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE: '0', ENABLE_TEST_FAULTS: 'true' })
    const rejected: string[] = []
    app.executor.on((event) => { if (event.type === 'task-rejected') rejected.push(`${event.task}: ${event.reason}`) })
    const running = spin(app, 300)
    await waitFor(() => app.executor.stats().running === 1)
    await app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'spin', ms: 1 } })
    await app.inject({ method: 'POST', url: '/v1/sum', headers: json, payload: { values: [1] } })
    await running
    expect(rejected).toEqual(['test-fault: queue-full', 'sum: queue-full'])
  })
})
