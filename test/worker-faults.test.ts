import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, closedForm, json } from './helper.js'

describe('an exception thrown inside a worker task', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp({ ENABLE_TEST_FAULTS: 'true' }) })
  afterAll(async () => { await app.close() })

  const fault = () => app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'throw' } })
  const work = (end: number) => app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end, chunks: 2 } })

  it('becomes a 500 for that request only, without leaking the worker error', async () => {
    const [before, failed, during] = await Promise.all([work(3_000_000), fault(), work(5_000_000)])
    expect(failed.statusCode).toBe(500)
    expect(failed.json()).toEqual({
      type: 'https://compute-service.dev/problems/internal',
      title: 'Internal error',
      status: 500,
      detail: 'Internal Server Error',
      instance: '/v1/test-fault',
      code: 'SVC_INTERNAL',
      requestId: failed.headers['x-request-id'],
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal Server Error'
    })
    expect(failed.body).not.toMatch(/test fault|at |\.js/)
    expect(before.json().result).toBe(closedForm(0, 3_000_000).toString())
    expect(during.json().result).toBe(closedForm(0, 5_000_000).toString())
  })

  it('leaves the pool at full strength and serving', async () => {
    for (let i = 0; i < 5; i++) expect((await fault()).statusCode).toBe(500)
    const after = await work(1_000_000)
    expect(after.statusCode).toBe(200)
    expect(after.json().result).toBe(closedForm(0, 1_000_000).toString())
    expect(app.executor.stats()).toMatchObject({ threads: 2, queued: 0, running: 0 })
  })
})

describe('the test fault route', () => {
  it('does not exist unless ENABLE_TEST_FAULTS is set', async () => {
    const app = await buildTestApp()
    const response = await app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'throw' } })
    await app.close()
    expect(response.statusCode).toBe(404)
  })
})
