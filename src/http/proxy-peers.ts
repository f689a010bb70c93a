import { BlockList, isIPv6 } from 'node:net'
import type { Config } from '../platform/config.js'

// proxy-addr's names for address ranges, as TRUST_PROXY accepts them.
export const PROXY_RANGE_CIDRS: Record<string, string[]> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']
}

/**
 * Whether a peer is one of the proxies TRUST_PROXY lists by address or CIDR: such a peer carries
 * many clients, so it is not held to one address's share of connections. true and a hop count name
 * no peer, so with them every peer is held to its share (a proxy's own connection limit, HAProxy's
 * `maxconn`, stays far below it); false trusts none.
 */
export function proxyPeerMatcher (setting: Config['TRUST_PROXY']): (address: string) => boolean {
  if (!Array.isArray(setting)) return () => false
  const list = new BlockList()
  for (const entry of setting.flatMap((item) => PROXY_RANGE_CIDRS[item] ?? [item])) {
    const [address = '', prefix] = entry.split('/')
    const type = isIPv6(address) ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, type)
    else list.addSubnet(address, Number(prefix), type)
  }
  return (address) => {
    const plain = address.startsWith('::ffff:') && !isIPv6(address.slice(7)) ? address.slice(7) : address
    return list.check(plain, isIPv6(plain) ? 'ipv6' : 'ipv4')
  }
}
