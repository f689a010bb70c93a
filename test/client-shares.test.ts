import { PassThrough } from 'node:stream'
import { setImmediate } from 'node:timers'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { createJsonParseQueue } from '../src/uploads/json-parse-queue.js'
import { buildTestApp } from './helper.js'

const KiB = 1024
const MiB = 1024 * KiB

let app: FastifyInstance | undefined
afterEach(async () => { await app?.close(); app = undefined })

/** Turns of the event loop until `ready` holds: an event awaited, never a time. */
async function until (ready: () => boolean): Promise<void> {
  for (let turn = 0; turn < 10_000 && !ready(); turn++) await nextTurn()
  expect(ready()).toBe(true)
}

/** `{"values":[{},{},...]}` of about `bytes` characters: cheap to send, slow to parse, fails validation. */
function emptyObjects (bytes: number): string {
  return `{"values":[${'{},'.repeat(Math.floor(bytes / 3) - 5)}{}]}`
}

function postJson (body: string, remoteAddress: string) {
  return app!.inject({ method: 'POST', url: '/v1/sum', remoteAddress, headers: { 'content-type': 'application/json' }, payload: body })
}

describe('a client\'s share of the upload memory', () => {
  it('answers a client past its share 429 with Retry-After before reading its body, while another client uploads', async () => {
    // Budget 4 MiB, a share of 1 MiB: the largest binary body, held by one stalled upload.
    app = await buildTestApp({ BODY_LIMIT_BYTES: String(MiB), JSON_BODY_LIMIT_BYTES: String(64 * KiB), UPLOAD_MEMORY_MAX_BYTES: String(4 * MiB) })
    const stalled = new PassThrough()
    const holding = app.inject({
      method: 'POST',
      url: '/v1/sum',
      remoteAddress: '10.0.0.1',
      payload: stalled,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(MiB) }
    })
    stalled.write(Buffer.alloc(8 * KiB))
    await until(() => app!.uploads.stats().reservedBytes === MiB)

    const second = await app.inject({
      method: 'POST',
      url: '/v1/sum',
      remoteAddress: '10.0.0.1',
      payload: Buffer.alloc(8),
      headers: { 'content-type': 'application/octet-stream' }
    })
    expect(second.statusCode).toBe(429)
    expect(second.headers['retry-after']).toBe('1')
    expect(second.json()).toMatchObject({ statusCode: 429, message: expect.stringMatching(/share of upload memory \(1048576 bytes\)/) })

    const other = await app.inject({
      method: 'POST',
      url: '/v1/sum',
      remoteAddress: '10.0.0.2',
      payload: Buffer.alloc(64),
      headers: { 'content-type': 'application/octet-stream' }
    })
    expect(other.statusCode).toBe(200)
    expect(app.uploads.stats()).toMatchObject({ inFlight: 1, clients: 1, perClientBytes: MiB })

    stalled.end(Buffer.alloc(MiB - 8 * KiB))
    expect((await holding).statusCode).toBe(200)
    expect(app.uploads.stats()).toMatchObject({ inFlight: 0, clients: 0, reservedBytes: 0 })
  })
})

describe('the JSON parse queue', () => {
  it('runs queued parses one per event-loop turn: work scheduled after them runs before the last', async () => {
    const queue = createJsonParseQueue(MiB, MiB)
    const order: string[] = []
    for (let i = 0; i < 4; i++) expect(queue.enqueue('a', 10, () => { order.push(`parse ${i}`) })).toBeUndefined()
    // The first ran at once, the second is due next turn; what arrives meanwhile runs before the third.
    setImmediate(() => { order.push('health') })
    expect(queue.stats()).toMatchObject({ queued: 3, queuedBytes: 30 })
    await until(() => order.length === 5)
    expect(order).toEqual(['parse 0', 'parse 1', 'health', 'parse 2', 'parse 3'])
    expect(queue.stats()).toMatchObject({ queued: 0, queuedBytes: 0 })
  })

  it('answers a client past its share of the JSON waiting 429, and any client past the whole queue 503', async () => {
    // Queue 4 KiB, a share of 1 KiB: one body of ~900 characters waiting per client.
    app = await buildTestApp({ JSON_BODY_LIMIT_BYTES: String(KiB), JSON_PARSE_MAX_BYTES: String(4 * KiB) })
    const body = emptyObjects(900)
    const addresses = ['10.0.0.1', '10.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']
    const replies = await Promise.all(addresses.map((address) => postJson(body, address)))
    const statuses = replies.map((reply) => reply.statusCode)
    // The first is parsed at once; the second waits; the third is past its client's share.
    expect(statuses.slice(0, 3)).toEqual([400, 400, 429])
    expect(replies[2]!.headers['retry-after']).toBe('1')
    expect(replies[2]!.json().message).toMatch(/already has 1024 bytes of JSON waiting/)
    // Four bodies wait (3.6 KiB); the next one does not fit in 4 KiB.
    expect(statuses.slice(3)).toEqual([400, 400, 400, 503, 503])
    expect(replies[7]!.headers['retry-after']).toBe('1')
    expect(app.uploads.jsonParses.stats()).toMatchObject({ queued: 0, queuedBytes: 0 })
  })
})
