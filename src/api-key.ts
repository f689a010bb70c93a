import { createHash } from 'node:crypto'

/**
 * A short, stable name for the bearer token a request presents, never the token itself: the rate
 * limiter's client id and the access line's `apiKey`, so one client reads the same in both.
 * 22 base64url characters (132 bits of SHA-256): no collision in practice, no way back to the key.
 */
export function apiKeyDigest (authorization: string | undefined): string | undefined {
  if (authorization === undefined || !authorization.startsWith('Bearer ')) return undefined
  const token = authorization.slice('Bearer '.length).trim()
  return token === '' ? undefined : createHash('sha256').update(token).digest('base64url').slice(0, 22)
}
