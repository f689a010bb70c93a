import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from './support/server-process.js'

/** The server's descriptor limit: enough to start (threads, pipes, the listener), soon exhausted. */
const OPEN_FILES = 200
/** Most sockets the test opens: well past OPEN_FILES, so the server runs out whatever it started with. */
const MOST_SOCKETS = 1500
/** How long descriptors stay exhausted: past two of the pressure sampler's one-second samples. */
const HOLD_MS = 2500

/** A socket that sent `GET /health/live` and was answered, or undefined if the server closed it unanswered. */
async function answered (port: number, localAddress: string): Promise<Socket | undefined> {
  const socket = connect({ port, host: '127.0.0.1', localAddress })
  socket.on('error', () => {})
  socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  const outcome = await Promise.race([
    once(socket, 'data').then(() => 'answered', () => 'failed'),
    once(socket, 'close').then(() => 'closed')
  ])
  if (outcome === 'answered') return socket
  socket.destroy()
  return undefined
}

describe('running out of file descriptors', () => {
  let server: ServerProcess
  afterEach(async () => { await server.stop('SIGKILL') })

  it('does not end the process: it answers again once sockets close, and SIGTERM exits 0', async () => {
    // Caps far above the limit, so the descriptors run out before any cap is reached.
    server = await startServer({ MAX_CONNECTIONS: '100000', MAX_CONNECTIONS_PER_CLIENT: '100000', LOG_LEVEL: 'warn' },
      { wrapper: ['prlimit', `--nofile=${OPEN_FILES}:${OPEN_FILES}`, '--'] })
    const held: Socket[] = []
    let unanswered = 0
    let exhaustedAt = Number.NaN
    // From several addresses until connections are closed unanswered (libuv's answer to EMFILE on
    // accept), then on for HOLD_MS so the periodic probes run with no descriptor free.
    for (let i = 0; i < MOST_SOCKETS && server.child.exitCode === null; i++) {
      if (performance.now() - exhaustedAt > HOLD_MS) break
      const socket = await answered(server.port, `127.0.0.${2 + (i % 3)}`)
      if (socket !== undefined) held.push(socket)
      else if (unanswered++ === 0) exhaustedAt = performance.now()
      if (unanswered > 0) await sleep(5)
    }
    expect(unanswered).toBeGreaterThan(0)
    expect(server.child.exitCode).toBeNull()

    for (const socket of held) socket.destroy()
    let live = 0
    for (let attempt = 0; attempt < 100 && live !== 200; attempt++) {
      live = await fetch(`${server.url}/health/live`).then((response) => response.status, () => 0)
      if (live !== 200) await sleep(100)
    }
    expect(live).toBe(200)
    expect((await fetch(`${server.url}/probe`)).status).toBe(200)
    expect(await server.stop()).toEqual({ code: 0, signal: null })
  })
})
