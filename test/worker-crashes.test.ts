import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'
import { until } from './support/until.js'
import { getJson, postJson } from './support/http.js'
import { closedForm } from './helper.js'

describe.each([
  ['exits (process.exit in the worker)', 'exit'],
  ['exceeds its heap limit', 'oom']
])('a worker that %s', (_name, kind) => {
  // A server per test: each counts its own crash from zero.
  let server: ServerProcess
  beforeEach(async () => {
    server = await startServer({ POOL_THREADS: '2', ENABLE_TEST_FAULTS: 'true', WORKER_MAX_OLD_GENERATION_MB: '32', LOG_LEVEL: 'warn' })
  })
  afterEach(async () => { await server.stop() })

  it('fails only the request whose task it ran, with a 500 that leaks nothing', async () => {
    const [fault, other] = await Promise.all([
      postJson(`${server.url}/v1/test-fault`, { kind }),
      postJson(`${server.url}/v1/sum-of-squares`, { end: 3_000_000, chunks: 1 })
    ])
    expect(fault.status).toBe(500)
    expect(fault.body).toMatchObject({ statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' })
    expect(other.status).toBe(200)
    expect(other.body.result).toBe(closedForm(0, 3_000_000).toString())
  })

  it('leaves the process up and the pool at full strength, serving the next request', async () => {
    expect((await postJson(`${server.url}/v1/test-fault`, { kind })).status).toBe(500)
    expect(server.child.exitCode).toBeNull()
    // The replacement thread reports in once it has booted, a few milliseconds after the crash.
    await until(async () => { expect((await getJson(`${server.url}/probe`)).pool).toMatchObject({ threads: 2, threadsReplaced: 1 }); return true })
    const next = await postJson(`${server.url}/v1/sum-of-squares`, { end: 10_000_000, chunks: 2 })
    expect(next.body.result).toBe(closedForm(0, 10_000_000).toString())
  })
})
