import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildTestApp, closedForm, json } from './helper.js'
import { until } from './support/until.js'

const spin = (app: FastifyInstance, ms: number) =>
  app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'spin', ms } })

describe('backpressure', () => {
  let app: FastifyInstance
  afterEach(async () => { await app.close() })

  it('refuses work that cannot be queued with 503 and Retry-After at once, in the error shape', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE_MS: '5', ENABLE_TEST_FAULTS: 'true' })
    const running = spin(app, 1500)
    const queued = spin(app, 10) // 10 ms of work waiting: past the 5 ms bound
    await until(() => app.executor.stats().queued === 1)

    const started = Date.now()
    const refused = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 100_000_000 } })
    expect(Date.now() - started).toBeLessThan(500) // at once, not after the queue drains
    expect(refused.statusCode).toBe(503)
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.json()).toMatchObject({ statusCode: 503, error: 'Service Unavailable', message: expect.stringMatching(/capacity/), requestId: expect.any(String) })

    expect((await running).statusCode).toBe(200)
    expect((await queued).statusCode).toBe(200)
    const after = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 100_000_000 } })
    expect(after.json().result).toBe(closedForm(0, 100_000_000).toString())
  })

  it('never refuses work small enough to run on the event loop, however full the queue', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE_MS: '0', ENABLE_TEST_FAULTS: 'true' })
    const running = spin(app, 500)
    await until(() => app.executor.stats().running === 1)
    expect((await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 100_000_000 } })).statusCode).toBe(503)
    const small = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 } })
    expect([small.statusCode, small.json().result]).toEqual([200, '285'])
    await running
  })

  it('stays ready while saturated: the refusal is each request\'s 503, and the probe shows the full queue', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE_MS: '0', ENABLE_TEST_FAULTS: 'true' })
    const running = spin(app, 500)
    await until(() => app.executor.stats().running === 1)
    const refused = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 1_000_000 } })
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    const probe = await app.inject({ method: 'GET', url: '/probe' })
    await running
    expect([refused.statusCode, refused.headers['retry-after'], refused.json().message]).toEqual([503, '1', expect.stringMatching(/capacity/)])
    // A balancer that took every saturated replica out would be left with none, and answer with its own error.
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready' }])
    expect(probe.json().pool).toMatchObject({ threads: 1, running: 1, queued: 0, maxQueueMs: 0 })
  })

  it('admits a request of many chunks whole, beyond the queue bound, rather than starving it', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE_MS: '1' })
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 40_000_000, chunks: 64 } })
    // Capped at 4 chunks per thread; 3 of them, some 10 ms of work each, waited past the 1 ms bound.
    expect(response.json()).toMatchObject({ chunks: 4, result: closedForm(0, 40_000_000).toString() })
  })

  it('counts rejections as executor events, each under the task its route runs', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE_MS: '0', ENABLE_TEST_FAULTS: 'true' })
    const rejected: string[] = []
    app.executor.on((event) => { if (event.type === 'task-rejected') rejected.push(`${event.task}: ${event.reason}`) })
    const running = spin(app, 300)
    await until(() => app.executor.stats().running === 1)
    await app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'spin', ms: 1 } })
    await app.inject({ method: 'POST', url: '/v1/sum', headers: json, payload: { values: [1] } })
    await running
    expect(rejected).toEqual(['test-fault: queue-full', 'sum: queue-full'])
  })
})
