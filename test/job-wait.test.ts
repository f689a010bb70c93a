import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, closedForm, json } from './helper.js'
import { startRedis, type RedisServer } from './support/redis-server.js'

describe.each(['embedded', 'redis'] as const)('GET /v1/jobs/{id}?wait= (%s)', (mode) => {
  let redis: RedisServer | undefined
  let app: FastifyInstance

  beforeAll(async () => {
    if (mode === 'redis') redis = await startRedis()
    app = await buildTestApp({ JOB_CHUNK_TERMS: '50000000', JOB_MAX_TERMS: String(1e13), ...(redis === undefined ? {} : { REDIS_URL: redis.url }) })
  }, 30_000)
  afterAll(async () => {
    await app?.close()
    await redis?.stop()
  })

  const submit = async (end: number) => {
    const response = await app.inject({ method: 'POST', url: '/v1/jobs', headers: json, payload: { task: 'sum-of-squares', input: { start: 0, end } } })
    expect(response.statusCode).toBe(202)
    return response.json() as { id: string }
  }
  const get = (id: string, query = '') => app.inject({ method: 'GET', url: `/v1/jobs/${id}${query}` })

  it('answers once the job has finished, in one request', async () => {
    const { id } = await submit(2_000_000_000)
    const response = await get(id, '?wait=60')
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ status: 'succeeded', result: closedForm(0, 2_000_000_000).toString() })
    expect(response.headers['retry-after']).toBeUndefined()
  })

  it('answers the job as it is once the wait is over, with Retry-After saying when to ask again', async () => {
    const { id } = await submit(1e13)
    const started = Date.now()
    const response = await get(id, '?wait=1')
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ id, status: expect.stringMatching(/^(queued|running)$/) })
    expect(response.headers['retry-after']).toBe('1')
    // Without wait: at once, with the same advice.
    expect((await get(id)).headers['retry-after']).toBe('1')
    expect((await app.inject({ method: 'POST', url: `/v1/jobs/${id}/cancel` })).json()).toMatchObject({ status: 'cancelled' })
  })

  it('answers 404 for a job it cannot see, and 400 for a wait past the limit or not a number', async () => {
    expect((await get(crypto.randomUUID(), '?wait=5')).statusCode).toBe(404)
    const { id } = await submit(10)
    for (const wait of ['61', '-1', '1.5', 'soon']) {
      const response = await get(id, `?wait=${wait}`)
      expect(response.statusCode, wait).toBe(400)
      expect(response.json(), wait).toMatchObject({ code: 'FST_ERR_VALIDATION' })
    }
  })
})
