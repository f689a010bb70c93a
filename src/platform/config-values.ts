import { z } from 'zod'
import { PROXY_RANGE_CIDRS } from '../http/proxy-peers.js'

// How one environment variable's text becomes a value, for the schema in config.ts.

export const int = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER).min(min).max(max))

/**
 * CORS_ORIGINS: `*`, or comma-separated origins (scheme, host and port, nothing after), each
 * compared exactly with a browser's Origin header.
 */
export const corsOrigins = z.string().trim().transform((value, context): '*' | string[] => {
  if (value === '*') return '*'
  const origins = value.split(',').map((entry) => entry.trim()).filter(Boolean)
  const wrong = origins.filter((origin) => !isOrigin(origin))
  if (origins.length > 0 && wrong.length === 0) return origins
  context.issues.push({ code: 'custom', input: value, message: `${wrong.join(', ') || '(none)'}: expected * or origins such as https://app.example.com (scheme, host, port; no path)` })
  return z.NEVER
})

function isOrigin (text: string): boolean {
  try {
    const url = new URL(text)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === text
  } catch {
    return false
  }
}

export const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')

/** OTEL_TRACES_EXPORTER: a comma-separated list, as the OpenTelemetry specification has it. */
export const traceExporterList = z.string().transform((list) => list.split(',').map((name) => name.trim()).filter(Boolean))
  .pipe(z.array(z.enum(['otlp', 'console', 'none'])).min(1, 'expected otlp, console or none, or a comma-separated list of them'))

// RFC 6750 b64token: what can travel in `Authorization: Bearer <key>` unchanged.
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
export const apiKeys = z.string().transform((list) => list.split(',').map((key) => key.trim()).filter(Boolean))
  .pipe(z.array(z.string()
    .min(16, 'each key must be at least 16 characters')
    .regex(BEARER_TOKEN, 'each key must be a bearer token: letters, digits and - . _ ~ + / only'))
    .min(1, 'expected at least one key'))

// proxy-addr's names for address ranges, accepted in TRUST_PROXY beside addresses and CIDRs.
const PROXY_RANGES = Object.keys(PROXY_RANGE_CIDRS)
const proxyAddress = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6(), z.enum(PROXY_RANGES)])
/**
 * Refused rather than read as one hop: `true` means "trust every hop" everywhere else (Fastify,
 * Express), so a setting that silently meant less would surprise whoever chose it, and one that
 * meant it lets any client name its own address (rate limit and fair share dodged by rotating it).
 */
const TRUST_PROXY_TRUE = 'true trusts every hop, so any client picks its own address by sending X-Forwarded-For: ' +
  'set the proxies\' addresses or CIDRs (safest), or the number of proxies in front (1 behind the HAProxy in deploy/)'
export const trustProxy = z.string().trim().transform((value, context): false | number | string[] => {
  if (value === 'false') return false
  if (value === 'true') {
    context.issues.push({ code: 'custom', input: value, message: TRUST_PROXY_TRUE })
    return z.NEVER
  }
  if (/^\d+$/.test(value)) {
    if (Number(value) <= 16) return Number(value)
    context.issues.push({ code: 'custom', input: value, message: 'a hop count is at most 16' })
    return z.NEVER
  }
  const entries = value.split(',').map((entry) => entry.trim()).filter(Boolean)
  const wrong = entries.filter((entry) => !proxyAddress.safeParse(entry).success)
  if (entries.length > 0 && wrong.length === 0) return entries
  context.issues.push({
    code: 'custom',
    input: value,
    message: wrong.length > 0
      ? `${wrong.join(', ')}: not an IP address, a CIDR range or one of ${PROXY_RANGES.join(', ')}`
      : 'expected false, a hop count (0-16), or comma-separated proxy addresses and CIDR ranges'
  })
  return z.NEVER
})
