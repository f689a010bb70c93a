import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'
import { postJson } from './support/http.js'
import { until } from './support/until.js'

async function answersWithin (url: string, ms: number): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(ms) })
    return true
  } catch {
    return false
  }
}

describe('load shedding when the event loop itself is in trouble', () => {
  let server: ServerProcess
  afterEach(async () => { await server.stop() })

  it('refuses compute requests with 503 and Retry-After, while health and probe still answer and readiness stays 200', async () => {
    // The inline executor is the simplest way to block the loop for real: 1.5 s of kernel on it.
    server = await startServer({ EXECUTOR: 'inline', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '200', LOG_LEVEL: 'warn' })
    const blocking = postJson(`${server.url}/v1/sum-of-squares`, { end: 5_000_000_000 })
    // Wait for the block itself, not a guess at when it starts: a liveness request left unanswered
    // (a healthy loop answers it in a few ms). The requests below then wait behind the block.
    await until(async () => !(await answersWithin(`${server.url}/health/live`, 300)), 30_000, 10)
    const [shed, probe, live, ready] = await Promise.all([
      postJson(`${server.url}/v1/sum-of-squares`, { end: 10 }),
      fetch(`${server.url}/probe`),
      fetch(`${server.url}/health/live`),
      fetch(`${server.url}/health/ready`)
    ])
    expect((await blocking).status).toBe(200)
    expect(shed.status).toBe(503)
    expect(shed.headers.get('retry-after')).toBe('1')
    expect(shed.body).toMatchObject({ statusCode: 503, message: expect.stringMatching(/overloaded/) })
    // Overload is answered per request; staying ready keeps a balancer from emptying its pool of servers.
    expect([probe.status, live.status, ready.status]).toEqual([200, 200, 200])
  })
})
