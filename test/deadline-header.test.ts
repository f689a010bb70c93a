import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp } from './helper.js'

describe('X-Timeout-Ms', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp() })
  afterAll(async () => { await app.close() })

  it.each(['0', '-5', 'soon', '1.5'])('rejects X-Timeout-Ms %j with 400', async (value) => {
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', payload: { end: 10 }, headers: { 'x-timeout-ms': value } })
    expect(response.statusCode).toBe(400)
    expect(response.json().message).toMatch(/X-Timeout-Ms/)
  })

  it('accepts a whole number of milliseconds', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', payload: { end: 10 }, headers: { 'x-timeout-ms': '5000' } })
    expect(response.statusCode).toBe(200)
  })
})
