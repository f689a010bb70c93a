import { describe, expect, it } from 'vitest'
import { defaultMaxConnections, openFilesSoftLimit } from '../src/clients/connection-limits.js'
import { proxyPeerMatcher } from '../src/http/proxy-peers.js'

const limits = (soft: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax open files            ${soft}                20000                files\n`

describe('the default connection cap', () => {
  it('reads the open-files soft limit from /proc/self/limits, and assumes 1024 when it cannot', () => {
    expect(openFilesSoftLimit(() => limits('20000'))).toBe(20_000)
    expect(openFilesSoftLimit(() => limits('unlimited'))).toBe(Number.MAX_SAFE_INTEGER)
    expect(openFilesSoftLimit(() => { throw new Error('ENOENT') })).toBe(1024)
  })

  it('leaves a fifth of the descriptors (at least 512) for everything else, and stops at 65,536', () => {
    expect(defaultMaxConnections(20_000)).toBe(16_000)
    expect(defaultMaxConnections(1024)).toBe(512)
    expect(defaultMaxConnections(1_048_576)).toBe(65_536)
    expect(defaultMaxConnections(200)).toBe(16)
  })
})

describe('which peers are proxies, exempt from the per-address cap', () => {
  it('only those TRUST_PROXY lists by address, CIDR or range name', () => {
    const listed = proxyPeerMatcher(['10.0.0.5', '192.168.0.0/16', 'loopback'])
    expect([listed('10.0.0.5'), listed('192.168.3.4'), listed('127.0.0.2'), listed('::1'), listed('::ffff:10.0.0.5')]).toEqual([true, true, true, true, true])
    expect([listed('10.0.0.6'), listed('8.8.8.8')]).toEqual([false, false])
  })

  it('none for a hop count or false (true is refused at start-up): every peer is held to its share', () => {
    for (const setting of [1, false] as const) expect(proxyPeerMatcher(setting)('127.0.0.1')).toBe(false)
  })
})
