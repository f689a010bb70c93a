import { describe, expect, it } from 'vitest'
import { startServer } from './support/server-process.js'
import { until } from './support/until.js'
import { closedForm, json } from './helper.js'

describe('SIGTERM during sustained load', () => {
  it('drops no accepted request, refuses new work, and exits 0 within the grace period', async () => {
    // debug: the `incoming request` line tells which requests the server read.
    const server = await startServer({ POOL_THREADS: '2', POOL_MAX_QUEUE_MS: '400', SHUTDOWN_GRACE_MS: '10000', LOG_LEVEL: 'debug' })
    const outcomes = new Map<string, number | string>()
    const expected = closedForm(0, 60_000_000).toString()
    let wrongResults = 0
    const state = { stop: false }

    const client = async (loop: number) => {
      let failuresInARow = 0
      for (let i = 0; !state.stop && failuresInARow < 3; i++) {
        const id = `load-${loop}-${i}`
        try {
          const response = await fetch(`${server.url}/v1/sum-of-squares`, {
            method: 'POST', headers: { ...json, 'x-request-id': id }, body: JSON.stringify({ end: 60_000_000 })
          })
          const body = await response.json() as { result?: string }
          if (response.status === 200 && body.result !== expected) wrongResults++
          outcomes.set(id, response.status)
          failuresInARow = 0
        } catch (error) {
          outcomes.set(id, String((error as { cause?: { code?: string } }).cause?.code ?? error))
          failuresInARow++
        }
      }
    }
    const clients = Promise.all(Array.from({ length: 6 }, (_, loop) => client(loop)))
    const incoming = () => server.logs.filter((line) => line.msg === 'incoming request' && String(line.reqId).startsWith('load-'))
    await until(() => incoming().length > 20) // well into the load: 21 requests taken in
    server.child.kill('SIGTERM')
    const exit = await server.exited
    state.stop = true
    await clients

    // Exit code 0 is the proof of "within the grace period": past it the server exits 1 (shutdown.test.ts).
    expect(exit).toEqual({ code: 0, signal: null })
    expect(wrongResults).toBe(0)

    // Every request the server read got its answer; every other one was refused at the door.
    const accepted = incoming().map((line) => String(line.reqId))
    const answered = new Set(server.logs.filter((line) => line.msg === 'request completed').map((line) => String(line.reqId)))
    expect(accepted.length).toBeGreaterThan(20)
    for (const id of accepted) {
      expect(answered.has(id), `request ${id} was accepted but not answered`).toBe(true)
      expect([200, 503], `request ${id}: ${outcomes.get(id)}`).toContain(outcomes.get(id))
    }
    const refused = [...outcomes].filter(([id]) => !accepted.includes(id)).map(([, outcome]) => outcome)
    expect(refused.length).toBeGreaterThan(0)
    for (const outcome of refused) expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(outcome)
  })
})
