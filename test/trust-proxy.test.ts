import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { loggerOptions } from '../src/platform/logger.js'
import { buildTestApp, json } from './helper.js'

const PROXY = '10.0.0.100'
const ALICE = '203.0.113.1'
const BOB = '203.0.113.2'

describe('clients behind a proxy (TRUST_PROXY)', () => {
  let app: FastifyInstance
  afterEach(async () => { await app.close() })

  /** Status codes of `count` compute requests arriving from `peer` with the given X-Forwarded-For. */
  async function statuses (peer: string, forwardedFor: string | undefined, count: number) {
    const codes: number[] = []
    for (let i = 0; i < count; i++) {
      const headers = { ...json, ...(forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }) }
      codes.push((await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers, payload: { end: 10 }, remoteAddress: peer })).statusCode)
    }
    return codes
  }
  const limitedApp = (env: Record<string, string> = {}) => buildTestApp({ RATE_LIMIT_MAX: '2', ...env })

  it('without it, counts every client behind the proxy as the proxy: one budget for all', async () => {
    app = await limitedApp()
    expect([...await statuses(PROXY, ALICE, 2), ...await statuses(PROXY, BOB, 2)]).toEqual([200, 200, 429, 429])
  })

  it('with the proxy\'s address, gives each forwarded client a budget of its own', async () => {
    app = await limitedApp({ TRUST_PROXY: PROXY })
    expect([...await statuses(PROXY, ALICE, 3), ...await statuses(PROXY, BOB, 3)]).toEqual([200, 200, 429, 200, 200, 429])
  })

  it('ignores X-Forwarded-For from a peer it does not trust', async () => {
    app = await limitedApp({ TRUST_PROXY: PROXY })
    // A client that reaches the service directly cannot spread its requests over made-up addresses.
    expect([...await statuses(ALICE, '198.51.100.1', 2), ...await statuses(ALICE, '198.51.100.2', 1)]).toEqual([200, 200, 429])
  })

  it('takes the address the proxy saw, not one the client wrote in front of it', async () => {
    app = await limitedApp({ TRUST_PROXY: PROXY })
    expect([...await statuses(PROXY, `${BOB}, ${ALICE}`, 2), ...await statuses(PROXY, ALICE, 1), ...await statuses(PROXY, BOB, 1)])
      .toEqual([200, 200, 429, 200])
  })

  it('with a hop count, takes the client that many hops back, whoever the peer is', async () => {
    app = await limitedApp({ TRUST_PROXY: '1' })
    expect([...await statuses('192.0.2.50', `${BOB}, ${ALICE}`, 2), ...await statuses('192.0.2.51', ALICE, 1)]).toEqual([200, 200, 429])
  })

  it.each([PROXY, '1'])('with TRUST_PROXY=%s, keeps a client that rotates the address it writes in front on one budget', async (trusted) => {
    app = await limitedApp({ TRUST_PROXY: trusted })
    // What a balancer that appends (HAProxy's option forwardfor) delivers: the client's own entries, then the address it saw.
    const rotated: number[] = []
    for (const spoofed of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) rotated.push(...await statuses(PROXY, `${spoofed}, ${ALICE}`, 1))
    expect(rotated).toEqual([200, 200, 429])
  })

  it('refuses to start with TRUST_PROXY=true, under which any client is whoever it says', async () => {
    await expect(limitedApp({ TRUST_PROXY: 'true' })).rejects.toThrow(/TRUST_PROXY="true"/)
    app = await limitedApp()
  })

  it('logs the forwarded client as the request\'s remote address', async () => {
    const lines: string[] = []
    const stream = new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } })
    app = await buildTestApp({ TRUST_PROXY: PROXY }, { logger: { ...(loggerOptions('info', false) as object), stream } })
    await statuses(PROXY, ALICE, 1)
    const access = lines.map((line) => JSON.parse(line)).find((line) => line.msg === 'request completed')
    expect(access).toMatchObject({ route: '/v1/sum-of-squares', remoteAddress: ALICE })
  })
})
