import { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { readPartials, recordPartial } from '../src/jobs/job-partials.js'
import { CHANGED, keysOf } from '../src/jobs/redis-records.js'
import { defineScripts, type JobScripts } from '../src/jobs/redis-scripts.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { until } from './support/until.js'

describe('recording a chunk\'s partial result in Redis', () => {
  let server: RedisServer
  let redis: Redis
  let scripts: JobScripts
  const keys = keysOf('job-1')
  const record = (index: number, partial: unknown, units = 10) =>
    scripts.jobChunkDone([keys.job, keys.done, keys.partials], [index, recordPartial(index, partial), units, 'job-1'])
  const stored = async () => readPartials(await redis.getBuffer(keys.partials) ?? Buffer.alloc(0), 2)
  beforeAll(async () => {
    server = await startRedis()
    redis = new Redis(server.url)
    scripts = defineScripts(redis)
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

  it('tells the event streams of each chunk counted, but of none counted twice nor of the last (its job\'s end says it)', async () => {
    const listener = new Redis(server.url)
    const messages: string[] = []
    listener.on('message', (channel: string, message: string) => messages.push(`${channel}: ${message}`))
    await listener.subscribe(CHANGED)
    try {
      await record(0, 1n)
      await record(0, 1n)
      await record(1, 2n)
      await redis.publish(CHANGED, 'end of test')
      await until(() => messages.includes(`${CHANGED}: end of test`))
      expect(messages).toEqual([`${CHANGED}: job-1 progress`, `${CHANGED}: end of test`])
    } finally {
      listener.disconnect()
    }
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

  it('refuses keys in the wrong number, and says which script', async () => {
    await expect(scripts.jobChunkDone([keys.job, keys.done], [0, recordPartial(0, 1n), 1, 'job-1'])).rejects.toThrow(/jobChunkDone takes 3 keys, not 2/)
    expect(await redis.exists(keys.partials)).toBe(0)
  })

  it('answers what each script says, checked: the start of a job, then of its next chunk, then none once it ended', async () => {
    await redis.hset(keys.job, 'status', 'queued')
    expect(await scripts.jobChunkStart([keys.job], [1])).toBe('started')
    expect(await scripts.jobChunkStart([keys.job], [2])).toBe('running')
    expect(await redis.hget(keys.job, 'startedAt')).toBe('1')
    await redis.hset(keys.job, 'status', 'succeeded')
    expect(await scripts.jobChunkStart([keys.job], [3])).toBe('inactive')
  })
})
