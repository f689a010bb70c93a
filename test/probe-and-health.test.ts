import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { buildTestApp, json } from './helper.js'

describe('GET /probe', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp() })
  afterAll(async () => { await app.close() })

  it('reports event-loop delay, utilization and the pool', async () => {
    const response = await app.inject({ method: 'GET', url: '/probe' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({
      status: 'ok',
      executor: 'pool',
      windowMs: expect.any(Number),
      eventLoop: {
        delayMs: { p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) },
        utilization: expect.any(Number)
      },
      pool: { threads: 2, queued: 0, queuedMs: 0, waitingClients: 0, running: 0, utilization: expect.any(Number), maxQueueMs: 2000, threadsReplaced: 0 },
      uploads: { inFlight: 0, reservedBytes: 0, maxBytes: expect.any(Number), clients: 0, jsonParseQueuedBytes: 0 },
      memory: { rssBytes: expect.any(Number), heapUsedBytes: expect.any(Number) }
    })
  })

  it('counts queued and running tasks while work is in flight, and pool utilization after', async () => {
    const work = Array.from({ length: 4 }, () =>
      app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 1_500_000_000, chunks: 1 } }))
    // inject dispatches asynchronously; wait until the pool has taken the tasks.
    while (app.executor.stats().running + app.executor.stats().queued < 4) await new Promise((resolve) => setTimeout(resolve, 5))
    const busy = (await app.inject({ method: 'GET', url: '/probe' })).json()
    expect(busy.pool).toMatchObject({ threads: 2, running: 2, queued: 2 })
    await Promise.all(work)
    const after = (await app.inject({ method: 'GET', url: '/probe' })).json()
    expect(after.pool.utilization).toBeGreaterThan(0.3)
    expect(after.pool.utilization).toBeLessThanOrEqual(1)
  })
})

describe('health', () => {
  it('is live and ready while running', async () => {
    const app = await buildTestApp()
    const live = await app.inject({ method: 'GET', url: '/health/live' })
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    await app.close()
    expect([live.statusCode, live.json()]).toEqual([200, { status: 'ok' }])
    expect([ready.statusCode, ready.json()]).toEqual([200, { status: 'ready' }])
  })
})

describe('readiness: send this instance traffic', () => {
  const ready = async (app: FastifyInstance) => {
    const response = await app.inject({ method: 'GET', url: '/health/ready' })
    return [response.statusCode, response.json().message ?? response.json().status]
  }

  it('turns 503 once draining starts, while liveness stays 200', async () => {
    const app = await buildTestApp()
    app.drain()
    const live = await app.inject({ method: 'GET', url: '/health/live' })
    const answer = await ready(app)
    await app.close()
    expect(answer).toEqual([503, expect.stringMatching(/shutting down/)])
    expect(live.statusCode).toBe(200)
  })

  it('is 503 while the pool has no worker thread', async () => {
    const app = await buildTestApp()
    const stats = app.executor.stats()
    vi.spyOn(app.executor, 'stats').mockReturnValue({ ...stats, threads: 0 })
    const answer = await ready(app)
    await app.close()
    expect(answer).toEqual([503, expect.stringMatching(/No worker thread/)])
  })

  it('is 200 with the inline executor, which has no threads to lose', async () => {
    const app = await buildTestApp({ EXECUTOR: 'inline' })
    const answer = await ready(app)
    await app.close()
    expect(answer).toEqual([200, 'ready'])
  })
})
