import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ServerProcess } from '../../../test/support/server-process.js'
import { rawExchange, requestHead, type RawOutcome } from '../../../test/support/raw-http.js'
import { describe, type Attack } from '../hostile-attacks.js'

const KiB = 1024
const MiB = 1024 * KiB
const ATTACKER = '127.0.0.2'
const OTHER = '127.0.0.3'

/** A whole body from `localAddress`, so the server sees a client of its own. */
function sendFrom (server: ServerProcess, localAddress: string, type: string, body: Uint8Array | string, capMs: number) {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  return rawExchange({
    port: server.port,
    head: requestHead('POST', '/v1/sum', [['Content-Type', type], ['Content-Length', length]]),
    pieces: [{ bytes: body }],
    capMs,
    localAddress
  })
}

/** `3x 200; 1x 429` */
function tally (answers: string[]): string {
  const counts = new Map<string, number>()
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1)
  return [...counts].map(([answer, n]) => `${n}x ${answer}`).join('; ')
}

/** A flag that turns true once `promise` settles, for loops that run meanwhile. */
function settled (promise: Promise<unknown>): { done: boolean } {
  const flag = { done: false }
  promise.then(() => { flag.done = true }, () => { flag.done = true })
  return flag
}

const statusOf = (outcome: RawOutcome, server: ServerProcess) => describe(outcome, server).replace(', closed', '')

/** What one client can hold: upload memory, and the event loop's JSON parsing (issue 17). */
export const attacks: Attack[] = [
  {
    name: 'trickled-uploads-x4',
    description: 'UPLOAD_MEMORY_MAX_BYTES=256 MiB; client A: 4 connections declare 64 MiB and trickle 40 KiB/s for 30 s; client B: binary and JSON /v1/sum in a loop meanwhile',
    env: { UPLOAD_MEMORY_MAX_BYTES: String(256 * MiB) },
    async run (server) {
      const started = performance.now()
      // 4 KiB every 100 ms: 40 KiB/s, above UPLOAD_MIN_BYTES_PER_SECOND's 32 KiB/s, for 30 s.
      const pieces = Array.from({ length: 300 }, () => ({ bytes: new Uint8Array(4 * KiB), delayMs: 100 }))
      const attack = Promise.all(Array.from({ length: 4 }, () => rawExchange({
        port: server.port,
        head: requestHead('POST', '/v1/sum', [['Content-Type', 'application/octet-stream'], ['Content-Length', 64 * MiB]]),
        pieces,
        capMs: 35_000,
        localAddress: ATTACKER
      })))
      await sleep(500)
      const binary = new Uint8Array(new Float64Array(1024).fill(1.5).buffer)
      const json = `{"values":[${new Array(1024).fill('1.5').join(',')}]}`
      const other: string[] = []
      const attackOver = settled(attack)
      while (!attackOver.done && performance.now() - started < 35_000) {
        const outcome = await sendFrom(server, OTHER, other.length % 2 === 0 ? 'application/octet-stream' : 'application/json', other.length % 2 === 0 ? binary : json, 5000)
        other.push(statusOf(outcome, server))
        await sleep(200)
      }
      const attacker = await attack
      const ok = other.filter((status) => status === '200').length
      return {
        answer: `A: ${tally(attacker.map((outcome) => describe(outcome, server)))}`,
        ms: performance.now() - started,
        note: `B ${ok}/${other.length} 200 (${tally(other)})`
      }
    }
  },
  {
    name: 'json-flood-x64',
    description: 'client A: 64 concurrent 1 MiB {"values":[{},{},...]} bodies; client B polls GET /health/live meanwhile',
    async run (server) {
      const body = `{"values":[${'{},'.repeat(Math.floor(MiB / 3) - 5)}{}]}`
      const started = performance.now()
      const flood = Promise.all(Array.from({ length: 64 }, () => sendFrom(server, ATTACKER, 'application/json', body, 60_000)))
      const floodOver = settled(flood)
      const live: number[] = []
      const liveStatuses: string[] = []
      while (!floodOver.done && performance.now() - started < 60_000) {
        const sent = performance.now()
        const outcome = await rawExchange({ port: server.port, head: requestHead('GET', '/health/live', []), capMs: 10_000, localAddress: OTHER })
        live.push(performance.now() - sent)
        liveStatuses.push(outcome.status === 0 ? 'timeout' : String(outcome.status))
        await sleep(50)
      }
      const outcomes = await flood
      return {
        answer: `A: ${tally(outcomes.map((outcome) => statusOf(outcome, server)))}`,
        ms: performance.now() - started,
        note: `liveness: longest ${Math.round(Math.max(...live))} ms over ${live.length} polls (${tally(liveStatuses)})`
      }
    }
  }
]
