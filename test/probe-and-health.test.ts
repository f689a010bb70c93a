import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
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
      uploads: { inFlight: 0, reservedBytes: 0, maxBytes: expect.any(Number) },
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
