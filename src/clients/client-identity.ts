import { createHash } from 'node:crypto'
import { isIPv6 } from 'node:net'
import type { FastifyRequest } from 'fastify'

/**
 * A short, stable name for the bearer token a request presents, never the token itself: the rate
 * limiter's and the fair queue's client, a job's owner, the access line's `apiKey`, so one client
 * reads the same everywhere. 22 base64url characters (132 bits of SHA-256): no way back to the key.
 */
export function apiKeyDigest (authorization: string | undefined): string | undefined {
  if (authorization === undefined || !authorization.startsWith('Bearer ')) return undefined
  const token = authorization.slice('Bearer '.length).trim()
  return token === '' ? undefined : createHash('sha256').update(token).digest('base64url').slice(0, 22)
}

/** The client a request with an API key is (the key is verified by the time this is asked). */
export function apiKeyOf (request: FastifyRequest): string {
  return `key:${apiKeyDigest(request.headers.authorization) ?? ''}`
}

/**
 * Who a compute request comes from, for sharing the pool fairly: its API key when keys are required
 * (verified by then), else its address; an IPv6 client by its /64, which one host usually owns whole.
 */
export function clientOf (request: FastifyRequest, byApiKey: boolean): string {
  if (byApiKey) return apiKeyOf(request)
  return clientOfAddress(request.ip)
}

/** An address as a client: an IPv6 one by its /64, which one host usually owns whole. */
export function clientOfAddress (address: string): string {
  return isIPv6(address) && !address.startsWith('::ffff:') ? `ip:${ipv6Prefix64(address)}::/64` : `ip:${address}`
}

/** The first four groups of an IPv6 address, `::` expanded. */
function ipv6Prefix64 (address: string): string {
  const [head = '', tail] = address.split('%')[0]!.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right]
  return groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '').toLowerCase()).join(':')
}
