import { Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { Registry } from 'prom-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerChunkQueueGauges } from '../src/metrics/chunk-queue-metrics.js'
import { sample } from './helper.js'
import { startRedis, type RedisServer } from './support/redis-server.js'

const labels = { queue: 'compute-chunks' }
const gauges = async (registry: Registry) => {
  const text = await registry.metrics()
  return [sample(text, 'compute_job_chunks_waiting', labels), sample(text, 'compute_job_chunks_running', labels)]
}

describe('the chunk queue gauges', () => {
  let redis: RedisServer
  let connection: Redis
  let queue: Queue
  beforeAll(async () => {
    redis = await startRedis()
    connection = new Redis(redis.url, { maxRetriesPerRequest: null })
    queue = new Queue('compute-chunks', { connection })
  })
  afterAll(async () => { await queue?.close(); connection?.disconnect(); await redis?.stop() })

  it('count the queue\'s waiting chunks, with a priority (as every chunk has) or without, read at scrape time', async () => {
    const registry = new Registry()
    registerChunkQueueGauges(registry, queue)
    expect(await gauges(registry)).toEqual([0, 0])
    await queue.addBulk(Array.from({ length: 5 }, (_, index) => ({ name: 'sum-of-squares', data: {}, opts: { priority: index + 1 } })))
    await queue.add('sum-of-squares', {})
    await queue.add('sum-of-squares', {}, { delay: 60_000 })
    expect(await gauges(registry)).toEqual([7, 0])
    await queue.obliterate({ force: true })
    expect(await gauges(registry)).toEqual([0, 0])
  })

  it('read the queue once per scrape, for both gauges', async () => {
    let reads = 0
    const registry = new Registry()
    registerChunkQueueGauges(registry, { name: 'compute-chunks', getJobCounts: async () => { reads++; return { waiting: 3, prioritized: 4, delayed: 0, active: 2 } } })
    expect(await gauges(registry)).toEqual([7, 2])
    expect(reads).toBe(1)
  })

  it('are left out of a scrape, which still answers, when Redis fails or does not answer within the bound', async () => {
    let answer: () => Promise<Record<string, number>> = () => new Promise(() => {})
    const registry = new Registry()
    registerChunkQueueGauges(registry, { name: 'compute-chunks', getJobCounts: () => answer() }, 50)
    expect(await gauges(registry)).toEqual([undefined, undefined])
    answer = async () => ({ waiting: 1, prioritized: 0, delayed: 0, active: 1 })
    expect(await gauges(registry)).toEqual([1, 1])
    // A failed read after a good one shows nothing, not the last count.
    answer = async () => { throw new Error('Connection is closed.') }
    expect(await gauges(registry)).toEqual([undefined, undefined])
  })
})
