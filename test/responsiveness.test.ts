import { performance } from 'node:perf_hooks'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from '../load-tests/lib/server-process.js'

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
  return { statuses, samples: roundTrips.length, median: roundTrips[Math.floor(roundTrips.length / 2)]!, max: roundTrips.at(-1)! }
}

describe('the event loop while CPU work runs', () => {
  let server: ServerProcess | undefined
  afterEach(async () => { await server?.stop() })

  it('stays responsive with the pool executor', async () => {
    server = await startServer({ EXECUTOR: 'pool', POOL_THREADS: '2', LOG_LEVEL: 'warn' })
    const result = await probeWhileSaturated(server)
    console.log('pool probe round trips (ms):', result)
    expect(result.statuses).toEqual(Array(6).fill(200))
    expect(result.samples).toBeGreaterThan(20) // the pool really was busy for a while
    expect(result.median).toBeLessThan(20)
    expect(result.max).toBeLessThan(150)
  })

  it('is blocked with the inline executor (the same test can fail)', async () => {
    server = await startServer({ EXECUTOR: 'inline', LOG_LEVEL: 'warn' })
    const result = await probeWhileSaturated(server)
    console.log('inline probe round trips (ms):', result)
    expect(result.statuses).toEqual(Array(6).fill(200))
    expect(result.max).toBeGreaterThan(400)
  })
})
