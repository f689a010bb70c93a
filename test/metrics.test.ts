import { createServer } from 'node:net'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startServer } from './support/server-process.js'
import { buildTestApp, json, sample } from './helper.js'

describe('GET /metrics', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp({ ENABLE_TEST_FAULTS: 'true' }) })
  afterAll(async () => { await app.close() })

  const scrape = async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    expect(response.statusCode).toBe(200)
    return response.body
  }
  const sumOfSquares = (payload: object) => app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload })

  it('answers in the Prometheus text format, with the default process metrics', async () => {
    const response = await app.inject({ method: 'GET', url: '/metrics' })
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(sample(response.body, name), name).toBeGreaterThanOrEqual(0)
    }
  })

  it('times each request under its route pattern and status code', async () => {
    const labels = (status: string) => ({ method: 'POST', route: '/v1/sum-of-squares', status_code: status })
    const before = await scrape()
    await sumOfSquares({ end: 1000 })
    await sumOfSquares({ end: 1000 })
    await sumOfSquares({ start: 5, end: 1 })
    const after = await scrape()
    const count = (text: string, status: string) => sample(text, 'compute_http_request_duration_seconds_count', labels(status)) ?? 0
    expect(count(after, '200') - count(before, '200')).toBe(2)
    expect(count(after, '400') - count(before, '400')).toBe(1)
    expect(sample(after, 'compute_http_request_duration_seconds_sum', labels('200'))).toBeGreaterThan(0)
  })

  it('counts every unknown URL under one "unmatched" route, never the URL itself', async () => {
    const before = sample(await scrape(), 'compute_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' }) ?? 0
    for (let i = 0; i < 3; i++) expect((await app.inject({ method: 'GET', url: `/no/such/route/${i}` })).statusCode).toBe(404)
    const after = await scrape()
    expect(sample(after, 'compute_http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(before + 3)
    expect(after).not.toContain('/no/such/route')
  })

  it('reads threads, queue length and running tasks at scrape time, and utilization after work', async () => {
    expect(sample(await scrape(), 'compute_pool_threads')).toBe(2)
    const work = Array.from({ length: 4 }, () => sumOfSquares({ end: 1_500_000_000, chunks: 1 }))
    // inject dispatches asynchronously; wait until the pool has taken the tasks.
    while (app.executor.stats().running + app.executor.stats().queued < 4) await sleep(5)
    const busy = await scrape()
    expect([sample(busy, 'compute_pool_running_tasks'), sample(busy, 'compute_pool_queued_tasks')]).toEqual([2, 2])
    await Promise.all(work)
    const after = await scrape()
    expect([sample(after, 'compute_pool_running_tasks'), sample(after, 'compute_pool_queued_tasks')]).toEqual([0, 0])
    expect(sample(after, 'compute_pool_utilization_ratio')).toBeGreaterThan(0.3)
  })

  it('counts completed tasks with their run and wait times', async () => {
    const task = { task: 'sum-of-squares' }
    const before = await scrape()
    expect((await sumOfSquares({ end: 20_000_000, chunks: 2 })).statusCode).toBe(200)
    const after = await scrape()
    const moved = (name: string) => (sample(after, name, task) ?? 0) - (sample(before, name, task) ?? 0)
    expect(moved('compute_pool_tasks_completed_total')).toBe(2)
    expect(moved('compute_pool_task_run_seconds_count')).toBe(2)
    expect(moved('compute_pool_task_wait_seconds_count')).toBe(2)
    // 10M terms a chunk take milliseconds of kernel time.
    expect(moved('compute_pool_task_run_seconds_sum')).toBeGreaterThan(0.001)
    expect(moved('compute_pool_task_wait_seconds_sum')).toBeGreaterThan(0)
  })

  it('counts a task that threw as failed', async () => {
    const task = { task: 'test-fault' }
    expect(sample(await scrape(), 'compute_pool_tasks_failed_total', task)).toBe(0)
    await app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'throw' } })
    expect(sample(await scrape(), 'compute_pool_tasks_failed_total', task)).toBe(1)
  })

  it('counts a running task that was aborted, and the thread started in place of the one terminated', async () => {
    const replaced = new Promise<void>((resolve) => {
      const off = app.executor.on((event) => { if (event.type === 'thread-replaced') { off(); resolve() } })
    })
    const controller = new AbortController()
    const task = app.executor.execute('sum-of-squares', { start: 0, end: 5_000_000_000 }, { signal: controller.signal })
    while (app.executor.stats().running < 1) await sleep(5)
    controller.abort()
    await expect(task).rejects.toThrow(/abort/i)
    await replaced
    const after = await scrape()
    expect(sample(after, 'compute_pool_tasks_aborted_total', { task: 'sum-of-squares', reason: 'unknown' })).toBe(1)
    expect(sample(after, 'compute_pool_threads_replaced_total')).toBe(1)
  })

  it('shows the event loop blocked in its lag since the last scrape', async () => {
    await scrape()
    // A scrape resets the histogram, and its first 10 ms sample after a reset only sets a baseline.
    await sleep(30)
    const blockedUntil = performance.now() + 100
    while (performance.now() < blockedUntil) { /* block the event loop, as a synchronous handler would */ }
    // The delay histogram records the block when its next 10 ms sample fires.
    await sleep(30)
    expect(sample(await scrape(), 'nodejs_eventloop_lag_max_seconds')).toBeGreaterThan(0.08)
  })

  it('exports the probe\'s windowed event-loop figures', async () => {
    const text = await scrape()
    expect(sample(text, 'compute_eventloop_delay_window_p99_seconds')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'compute_eventloop_utilization_window_ratio')).toBeGreaterThan(0)
  })
})

describe('METRICS_PORT', () => {
  it('serves /metrics on a listener of its own, not on the main one, and closes it with the app', async () => {
    const port = await freePort()
    const app = await buildTestApp({ METRICS_PORT: String(port), HOST: '127.0.0.1' })
    const separate = await fetch(`http://127.0.0.1:${port}/metrics`)
    expect(separate.status).toBe(200)
    expect(sample(await separate.text(), 'compute_pool_threads')).toBe(2)
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404)
    const elsewhere = await fetch(`http://127.0.0.1:${port}/other`)
    expect([elsewhere.status, ((await elsewhere.json()) as { error: string }).error]).toEqual([404, 'Not Found'])
    await app.close()
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
  })

  it('works in the real server, which still exits 0 on SIGTERM', async () => {
    const metricsPort = await freePort()
    const server = await startServer({ METRICS_PORT: String(metricsPort) })
    try {
      const separate = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
      expect(separate.status).toBe(200)
      expect((await fetch(`${server.url}/metrics`)).status).toBe(404)
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null })
    }
  })

  it('stops start-up when the port is taken', async () => {
    const squatter = createServer().listen(0, '127.0.0.1')
    await once(squatter, 'listening')
    const { port } = squatter.address() as { port: number }
    await expect(buildTestApp({ METRICS_PORT: String(port), HOST: '127.0.0.1' })).rejects.toThrow(/EADDRINUSE/)
    squatter.close()
  })
})

describe('compute_health_ready', () => {
  it('is 1 while ready and 0 once draining, as GET /health/ready answers', async () => {
    const app = await buildTestApp()
    const ready = async () => sample((await app.inject({ method: 'GET', url: '/metrics' })).body, 'compute_health_ready')
    expect(await ready()).toBe(1)
    app.drain()
    expect((await app.inject({ method: 'GET', url: '/health/ready' })).statusCode).toBe(503)
    expect(await ready()).toBe(0)
    await app.close()
  })
})
