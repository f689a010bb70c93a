import type { FastifyInstance } from 'fastify'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, json } from './helper.js'
import { fillRedis, startRedis, type RedisServer } from './support/redis-server.js'

const compute = (app: FastifyInstance) =>
  app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 10 }, remoteAddress: '10.0.0.1' })

/** Connections the service holds open to this Redis (its client names itself). */
async function serviceConnections (redis: RedisServer) {
  const admin = new Redis(redis.url)
  try {
    const list = await admin.client('LIST') as string
    return list.split('\n').filter((line) => line.includes('name=compute-service')).length
  } finally {
    admin.disconnect()
  }
}

describe('rate limit kept in Redis (REDIS_URL set)', () => {
  let redis: RedisServer
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => { await redis?.stop() })

  it('is one limit across replicas: a client gets RATE_LIMIT_MAX in all, wherever its requests land', async () => {
    const env = { RATE_LIMIT_MAX: '3', REDIS_URL: redis.url }
    const replicas = [await buildTestApp(env), await buildTestApp(env)]
    const codes: number[] = []
    for (let i = 0; i < 8; i++) codes.push((await compute(replicas[i % 2]!)).statusCode)
    await Promise.all(replicas.map((app) => app.close()))
    expect(codes).toEqual([200, 200, 200, 429, 429, 429, 429, 429])
  })

  it('keeps no count in Redis without REDIS_URL: each replica then has its own', async () => {
    const replicas = [await buildTestApp({ RATE_LIMIT_MAX: '3' }), await buildTestApp({ RATE_LIMIT_MAX: '3' })]
    const codes: number[] = []
    for (let i = 0; i < 8; i++) codes.push((await compute(replicas[i % 2]!)).statusCode)
    await Promise.all(replicas.map((app) => app.close()))
    expect(codes).toEqual([200, 200, 200, 200, 200, 200, 429, 429])
  })

  it('closes its Redis connection when the app closes', async () => {
    const app = await buildTestApp({ RATE_LIMIT_MAX: '3', REDIS_URL: redis.url })
    await compute(app)
    expect(await serviceConnections(redis)).toBe(1)
    await app.close()
    // The server notices the disconnect a moment later.
    for (let i = 0; i < 50 && await serviceConnections(redis) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(await serviceConnections(redis)).toBe(0)
  })

  it('counts in this process while Redis is unreachable: the limit never opens', async () => {
    const gone = await startRedis()
    const app = await buildTestApp({ RATE_LIMIT_MAX: '1', REDIS_URL: gone.url })
    expect((await compute(app)).statusCode).toBe(200)
    await gone.stop()
    const codes: number[] = []
    for (let i = 0; i < 3; i++) codes.push((await compute(app)).statusCode)
    await app.close()
    // The count starts again in this process: one more request, then 429.
    expect(codes).toEqual([200, 429, 429])
  })

  it('counts in this process while Redis is full: the limit never opens', async () => {
    const full = await startRedis()
    const app = await buildTestApp({ RATE_LIMIT_MAX: '2', REDIS_URL: full.url })
    const filled = await fillRedis(full.url)
    const codes: number[] = []
    for (let i = 0; i < 5; i++) codes.push((await compute(app)).statusCode)
    await filled.free()
    await app.close()
    await full.stop()
    expect(codes).toEqual([200, 200, 429, 429, 429])
  })
})
