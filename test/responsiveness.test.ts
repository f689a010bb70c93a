import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'

/**
 * Saturates every worker for a few seconds with real HTTP requests while timing /probe round
 * trips from this process. A behaviour test with generous bounds, not a benchmark.
 */
async function probeWhileSaturated (server: ServerProcess) {
  const work = Array.from({ length: 6 }, () => fetch(`${server.url}/v1/sum-of-squares`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ start: 0, end: 3_000_000_000, chunks: 2 })
  }).then((response) => response.status))
  const state = { done: false }
  const all = Promise.all(work).finally(() => { state.done = true })
  const roundTrips: number[] = []
  await new Promise((resolve) => setTimeout(resolve, 100)) // let the work reach the executor
  while (!state.done) {
    const started = performance.now()
    const response = await fetch(`${server.url}/probe`)
    await response.json()
    roundTrips.push(performance.now() - started) // started while work was in flight, so it counts
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  const statuses = await all
  roundTrips.sort((a, b) => a - b)
  const at = (quantile: number) => roundTrips[Math.min(roundTrips.length - 1, Math.floor(roundTrips.length * quantile))]!
  return { statuses, samples: roundTrips.length, median: at(0.5), p95: at(0.95), max: roundTrips.at(-1)! }
}

describe('the event loop while CPU work runs', () => {
  let server: ServerProcess | undefined
  afterEach(async () => { await server?.stop() })

  it('stays responsive with the pool executor', async () => {
    // No deadline cuts the work, however slow the machine (a 504 once came at 30 s under a one-core hog).
    server = await startServer({ EXECUTOR: 'pool', POOL_THREADS: '2', POOL_MAX_QUEUE_MS: '60000', REQUEST_TIMEOUT_MS: '600000', LOG_LEVEL: 'warn' })
    const result = await probeWhileSaturated(server)
    console.log('pool probe round trips (ms):', result)
    expect(result.statuses).toEqual(Array(6).fill(200))
    expect(result.samples).toBeGreaterThan(20) // the pool really was busy for a while
    // Bounds sized for a shared 2-core machine running other work; the inline case is seconds.
    expect(result.median).toBeLessThan(20)
    expect(result.p95).toBeLessThan(50)
  })

  it('is blocked with the inline executor (the same test can fail)', async () => {
    // Load shedding off: it would (rightly) answer 503 once the blocked loop's delay passed a second.
    server = await startServer({ EXECUTOR: 'inline', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', REQUEST_TIMEOUT_MS: '600000', LOG_LEVEL: 'warn' })
    const result = await probeWhileSaturated(server)
    console.log('inline probe round trips (ms):', result)
    expect(result.statuses).toEqual(Array(6).fill(200))
    expect(result.max).toBeGreaterThan(400)
  })
})
