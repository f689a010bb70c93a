import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineScripts, type RunScript } from '../src/jobs/redis-scripts.js'
import { startRedis, type RedisServer } from './support/redis-server.js'

describe('the Lua decimal addition that sums chunk results in Redis', () => {
  let server: RedisServer
  let redis: Redis
  let run: RunScript
  beforeAll(async () => {
    server = await startRedis()
    redis = new Redis(server.url)
    run = defineScripts(redis)
  })
  afterAll(async () => {
    await redis?.quit()
    await server?.stop()
  })

  it('adds non-negative integers of any size exactly, as BigInt does', async () => {
    const big = fc.bigInt({ min: 0n, max: 10n ** 60n })
    await fc.assert(fc.asyncProperty(big, big, async (a, b) => {
      expect(await run('decimalAdd', [], [a.toString(), b.toString()])).toBe((a + b).toString())
    }), { numRuns: 300 })
  })

  it('carries across every digit and keeps zero as "0"', async () => {
    expect(await run('decimalAdd', [], ['999999999999999999999999', '1'])).toBe('1000000000000000000000000')
    expect(await run('decimalAdd', [], ['0', '0'])).toBe('0')
  })
})
