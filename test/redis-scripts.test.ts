import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readPartials, recordPartial } from '../src/jobs/job-partials.js'
import { keysOf } from '../src/jobs/redis-records.js'
import { defineScripts, type RunScript } from '../src/jobs/redis-scripts.js'
import { startRedis, type RedisServer } from './support/redis-server.js'

describe('recording a chunk\'s partial result in Redis', () => {
  let server: RedisServer
  let redis: Redis
  let run: RunScript
  const keys = keysOf('job-1')
  const record = (index: number, partial: unknown, units = 10) =>
    run('jobChunkDone', [keys.job, keys.done, keys.partials], [index, recordPartial(index, partial), units])
  const stored = async () => readPartials(await redis.getBuffer(keys.partials) ?? Buffer.alloc(0), 2)
  beforeAll(async () => {
    server = await startRedis()
    redis = new Redis(server.url)
    run = defineScripts(redis)
  })
  beforeEach(async () => {
    await redis.flushall()
    await redis.hset(keys.job, { status: 'running', chunks: 2, chunksDone: 0, done: 0 })
  })
  afterAll(async () => {
    await redis?.quit()
    await server?.stop()
  })

  it('keeps the first run\'s partial of a chunk that runs twice, and counts it once', async () => {
    expect(await record(0, 10n ** 30n)).toBe('recorded')
    // A second run of chunk 0 (its replica was killed after recording, before the queue heard of it).
    expect(await record(0, 999n)).toBe('recorded-before')
    expect(await record(1, 5n)).toBe('last')
    expect(await stored()).toEqual([10n ** 30n, 5n])
    expect(await redis.hmget(keys.job, 'done', 'chunksDone')).toEqual(['20', '2'])
  })

  it('says which chunk was the last, and stores partials as given: Redis adds nothing', async () => {
    const limbs = new Float64Array([1e308, -0, 5e-324])
    expect(await record(1, { state: limbs, firstNonFinite: -1 })).toBe('recorded')
    expect(await record(0, 3n)).toBe('last')
    expect(await stored()).toEqual([3n, { state: limbs, firstNonFinite: -1 }])
    expect(await redis.hget(keys.job, 'result')).toBeNull()
  })

  it('records nothing once the job has ended', async () => {
    await redis.hset(keys.job, 'status', 'cancelled')
    expect(await record(0, 1n)).toBe('inactive')
    expect(await redis.exists(keys.partials)).toBe(0)
  })
})
