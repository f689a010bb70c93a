import { createHash } from 'node:crypto'
import { isIPv6 } from 'node:net'
import type { FastifyRequest } from 'fastify'

/** A digest of the request's API key, never the key itself: what the service keeps to recognise a client (a job's owner). */
export function apiKeyDigest (request: FastifyRequest): string {
  const token = (request.headers.authorization ?? '').slice('Bearer '.length).trim()
  return createHash('sha256').update(token).digest('base64url')
}

/** The short form of the digest that names a client in logs, stores and queues. */
export function apiKeyOf (request: FastifyRequest): string {
  return 'key:' + apiKeyDigest(request).slice(0, 22)
}

/**
 * Who a compute request comes from, for sharing the pool fairly: its API key when keys are required
 * (verified by then), else its address; an IPv6 client by its /64, which one host usually owns whole.
 */
export function clientOf (request: FastifyRequest, byApiKey: boolean): string {
  if (byApiKey) return apiKeyOf(request)
  const address = request.ip
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
