import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'
import { until } from './support/until.js'
import { getJson, postJson } from './support/http.js'

describe('deadlines', () => {
  let server: ServerProcess
  afterEach(async () => { await server.stop() })

  it('answers 504 past the deadline, stops the running computation and restores the pool', async () => {
    server = await startServer({ POOL_THREADS: '1', ENABLE_TEST_FAULTS: 'true', LOG_LEVEL: 'warn' })
    const fault = `${server.url}/v1/test-fault`
    const { body: first } = await postJson(fault, { kind: 'spin', ms: 0 })

    const started = Date.now()
    const late = await postJson(fault, { kind: 'spin', ms: 60_000 }, { 'x-timeout-ms': '400' })
    expect(Date.now() - started).toBeLessThan(3000)
    expect(late.status).toBe(504)
    expect(late.body).toMatchObject({ statusCode: 504, error: 'Gateway Timeout', message: expect.stringMatching(/deadline of 400 ms/) })

    // The abandoned 60 s spin does not keep a core busy: the thread running it was terminated and replaced.
    await until(async () => { expect((await getJson(`${server.url}/probe`)).pool).toMatchObject({ threads: 1, threadsReplaced: 1, running: 0, queued: 0 }); return true })
    const { body: next } = await postJson(fault, { kind: 'spin', ms: 0 })
    expect(next.threadId).not.toBe(first.threadId) // a new thread serves
    expect((await postJson(`${server.url}/v1/sum-of-squares`, { end: 10 })).body.result).toBe('285')
  })

  it('aborts a queued task without terminating the thread that runs another request', async () => {
    server = await startServer({ POOL_THREADS: '1', ENABLE_TEST_FAULTS: 'true', LOG_LEVEL: 'warn' })
    const fault = `${server.url}/v1/test-fault`
    const running = postJson(fault, { kind: 'spin', ms: 1500 })
    await sleep(200)
    const queued = await postJson(fault, { kind: 'spin', ms: 10 }, { 'x-timeout-ms': '300' })
    expect(queued.status).toBe(504)
    expect((await running).status).toBe(200)
    expect((await getJson(`${server.url}/probe`)).pool).toMatchObject({ threadsReplaced: 0 })
  })

  it('applies REQUEST_TIMEOUT_MS to every compute request, and a longer X-Timeout-Ms cannot extend it', async () => {
    server = await startServer({ POOL_THREADS: '2', REQUEST_TIMEOUT_MS: '300', LOG_LEVEL: 'warn' })
    // 8 chunks of 5*10^8 terms: each estimated at 333 ms, admissible within 300 ms at twice that
    // speed (src/executor/doomed-work.ts); the 8 on 2 threads take far longer than 300 ms.
    const response = await postJson(`${server.url}/v1/sum-of-squares`, { end: 4_000_000_000, chunks: 8 }, { 'x-timeout-ms': '100000' })
    expect(response.status).toBe(504)
    expect(response.body.message).toMatch(/deadline of 300 ms/)
    // Every chunk, queued or running, was aborted: nothing runs or waits once the 504 is out.
    await until(async () => { expect((await getJson(`${server.url}/probe`)).pool).toMatchObject({ threads: 2, running: 0, queued: 0 }); return true })
  })
})
