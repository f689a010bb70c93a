import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'

/** Requests of seconds of work each, sent at once: more than the pool's threads. */
const REQUESTS = 6

/**
 * Saturates every worker for a few seconds with real HTTP requests while sending /probe requests
 * one after another from this process, and counts the probes answered while the work was in
 * flight. What it asserts is a count, never a time: a loop that computes answers a probe only
 * between two computations, at most once each (the next probe is sent after that answer), while a
 * loop that hands the work off answers every probe as it comes. Round trips are logged, for reading.
 */
async function probeWhileSaturated (server: ServerProcess) {
  const work = Array.from({ length: REQUESTS }, () => fetch(`${server.url}/v1/sum-of-squares`, {
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
    expect(result.statuses).toEqual(Array(REQUESTS).fill(200))
    // More probes than the gaps between computations could let through: the loop was never blocked.
    expect(result.samples).toBeGreaterThan(2 * (REQUESTS + 1))
  })

  it('is blocked with the inline executor (the same test can fail)', async () => {
    // Load shedding off: it would (rightly) answer 503 once the blocked loop's delay passed a second.
    server = await startServer({ EXECUTOR: 'inline', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', REQUEST_TIMEOUT_MS: '600000', LOG_LEVEL: 'warn' })
    const result = await probeWhileSaturated(server)
    console.log('inline probe round trips (ms):', result)
    expect(result.statuses).toEqual(Array(REQUESTS).fill(200))
    // One probe at most in each gap between two computations (and one before the first).
    expect(result.samples).toBeGreaterThan(0)
    expect(result.samples).toBeLessThanOrEqual(REQUESTS + 1)
  })
})
