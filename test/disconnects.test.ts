import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'
import { until } from './support/until.js'
import { getJson } from './support/http.js'

/** Sends a JSON POST and destroys the connection after `afterMs`, before any answer. */
async function postAndHangUp (url: string, body: unknown, afterMs: number) {
  const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json' } })
  req.on('error', () => {}) // the hang-up is the point
  req.end(JSON.stringify(body))
  await sleep(afterMs)
  req.destroy()
}

describe('a client that disconnects before the answer', () => {
  let server: ServerProcess
  afterEach(async () => { await server.stop() })

  it('has its running tasks aborted, logged at info rather than as an error', async () => {
    server = await startServer({ POOL_THREADS: '2' })
    await postAndHangUp(`${server.url}/v1/sum-of-squares`, { end: 9_000_000_000, chunks: 2 }, 300)
    await sleep(300)

    // Both chunks' threads were stopped (terminated and replaced), and nothing runs: counts, not CPU time.
    await until(async () => { expect((await getJson(`${server.url}/probe`)).pool).toMatchObject({ threads: 2, threadsReplaced: 2, running: 0 }); return true })

    // Its access line: 499, the reason, and how long the client waited.
    // The access line is written asynchronously: wait for it.
    const disconnect = await until(() => {
      const lines = server.logs.filter((line) => line.msg === 'request completed' && line.route === '/v1/sum-of-squares')
      return lines.length > 0 ? lines : undefined
    })
    expect(disconnect).toEqual([expect.objectContaining({ level: 30, statusCode: 499, abortReason: 'disconnect', durationMs: expect.any(Number) })])
    expect(disconnect[0]!.durationMs).toBeGreaterThanOrEqual(250)
    expect(server.logs.filter((line) => Number(line.level) >= 50)).toEqual([])
  })
})
