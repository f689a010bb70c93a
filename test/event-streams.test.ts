import { describe, expect, it } from 'vitest'
import { until } from './support/jobs.js'
import { monitorRedis } from './support/redis-monitor.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { startServer, type ServerProcess } from './support/server-process.js'
import { followOverSocket } from './support/sse-follower.js'

/** Hours of work on one thread: streams on it stay open for the whole test. */
const LONG = { start: 0, end: 10_000_000_000_000 }

async function submit (server: ServerProcess, input: { start: number, end: number }): Promise<string> {
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task: 'sum-of-squares', input }) })
  expect(response.status).toBe(202)
  return ((await response.json()) as { id: string }).id
}

/** Starts a server (with a throwaway Redis in Redis mode), runs `body`, and stops both. */
async function withServer (mode: 'embedded' | 'redis', env: Record<string, string>, body: (server: ServerProcess, redis?: RedisServer) => Promise<void>) {
  const redis = mode === 'redis' ? await startRedis() : undefined
  try {
    const server = await startServer({ LOG_LEVEL: 'warn', POOL_THREADS: '1', ...env, ...(redis === undefined ? {} : { REDIS_URL: redis.url }) })
    try {
      await body(server, redis)
    } finally {
      await server.stop('SIGKILL')
    }
  } finally {
    await redis?.stop()
  }
}

describe('event stream caps', () => {
  it('answers 429 with Retry-After past a client\'s share and 503 past the global cap, in the error shape; a closed stream frees its slot', async () => {
    await withServer('embedded', { EVENT_STREAMS_MAX: '3', EVENT_STREAMS_MAX_PER_CLIENT: '2' }, async (server) => {
      const id = await submit(server, LONG)
      const mine = [followOverSocket(server.port, id), followOverSocket(server.port, id)]
      expect(await Promise.all(mine.map((follower) => follower.status))).toEqual([200, 200])

      const overShare = followOverSocket(server.port, id)
      expect(await overShare.status).toBe(429)
      expect(overShare.text()).toMatch(/\r\nretry-after: \d+\r\n/i)
      expect(overShare.text()).toMatch(/"statusCode":429,"error":"Too Many Requests","message":"This client already has 2 event streams open/)

      const other = followOverSocket(server.port, id, { localAddress: '127.0.0.2' })
      expect(await other.status).toBe(200)
      const overCap = followOverSocket(server.port, id, { localAddress: '127.0.0.3' })
      expect(await overCap.status).toBe(503)
      expect(overCap.text()).toMatch(/\r\nretry-after: \d+\r\n/i)
      expect(overCap.text()).toMatch(/"statusCode":503,"error":"Service Unavailable","message":"The service has 3 event streams open/)

      mine[0]!.socket.destroy()
      const again = await until(async () => {
        const follower = followOverSocket(server.port, id)
        if (await follower.status === 200) return follower
        follower.socket.destroy()
        return undefined
      })
      for (const follower of [...mine, overShare, other, overCap, again]) follower.socket.destroy()
    })
  }, 60_000)
})

describe('one feed per job', () => {
  it('reads a job from Redis once per change however many streams follow it (HGETALLs of its hash counted with MONITOR)', async () => {
    const streams = 40
    await withServer('redis', { EVENT_STREAMS_MAX_PER_CLIENT: String(streams) }, async (server, redis) => {
      const id = await submit(server, LONG)
      const followers = Array.from({ length: streams }, () => followOverSocket(server.port, id))
      expect(await Promise.all(followers.map((follower) => follower.status))).toEqual(Array(streams).fill(200))
      // HGETALLs of this job's hash, as Redis executes them (BullMQ's own scripts read other hashes).
      let reads = 0
      const monitor = await monitorRedis(redis!.port, ([name, key]) => {
        if (name === 'hgetall' && key === `compute:job:${id}`) reads++
      })
      try {
        // One change (the cancel) that every stream must see: one read per stream would be `streams` HGETALLs.
        expect((await fetch(`${server.url}/v1/jobs/${id}/cancel`, { method: 'POST' })).status).toBe(200)
        await Promise.all(followers.map((follower) => follower.done))
        await monitor.flush()
        // The cancel's own two reads, the feed's read of the change, and a few throttled progress reads.
        expect(reads).toBeLessThan(streams / 4)
      } finally {
        monitor.close()
        for (const follower of followers) follower.socket.destroy()
      }
    })
  }, 60_000)
})

describe('SIGTERM with event stream followers', () => {
  for (const mode of ['embedded', 'redis'] as const) {
    it(`ends every stream, closes the sockets their clients keep open, and exits 0 within the grace period (${mode})`, async () => {
      await withServer(mode, { SHUTDOWN_GRACE_MS: '3000', POOL_THREADS: '2' }, async (server) => {
        // Followers of a finished job, idle after `done`, and followers of a running job.
        const finished = await submit(server, { start: 0, end: 1000 })
        const idle = Array.from({ length: 5 }, () => followOverSocket(server.port, finished))
        await Promise.all(idle.map((follower) => follower.done))
        const running = await submit(server, LONG)
        const streaming = Array.from({ length: 5 }, () => followOverSocket(server.port, running))
        expect(await Promise.all(streaming.map((follower) => follower.status))).toEqual(Array(5).fill(200))

        server.child.kill('SIGTERM')
        // Exit 1 would mean the grace period ran out with connections still open.
        expect(await server.exited).toEqual({ code: 0, signal: null })
        await Promise.all([...idle, ...streaming].map((follower) => follower.closed))
      })
    }, 60_000)
  }
})
