import type { IncomingHttpHeaders } from 'node:http'
import autocannon from 'autocannon'
import { closedForm } from './closed-form.js'

export interface LoadOptions {
  url: string
  connections: number
  /** Terms of each POST /v1/sum-of-squares. */
  terms: number
  /** Seconds before autocannon counts a request as timed out. */
  timeoutS?: number
  /** Stops by itself after this many seconds unless stopped earlier. */
  maxDurationS?: number
}

/** Every answer, sorted by who gave it. */
export interface LoadTally {
  requests: number
  /** 200 with the closed-form result. */
  ok: number
  /** 200 with any other body. */
  wrong: number
  /** The service's own refusals: 503 in its error shape, with Retry-After and a requestId. */
  serviceRefusals: number
  /** Every other answer by status (a balancer's own 502/503/504 land here), with one body of each. */
  other: Record<string, { count: number, sample: string }>
  /** Socket errors and timeouts, by code. */
  errors: Record<string, number>
  timeouts: number
  durationS: number
  /** Client-side latency of the 200s, in ms. */
  latencyMs: { p50: number, p99: number, max: number }
}

/** The failures: anything that was not a correct 200 or the service's own 503. */
export function failures (tally: LoadTally): number {
  return tally.wrong + Object.values(tally.other).reduce((sum, { count }) => sum + count, 0) + Object.values(tally.errors).reduce((sum, n) => sum + n, 0)
}

function isServiceRefusal (status: number, body: string, headers: IncomingHttpHeaders): boolean {
  if (status !== 503) return false
  const retryAfter = Object.entries(headers).find(([name]) => name.toLowerCase() === 'retry-after')?.[1]
  try {
    const parsed = JSON.parse(body) as { statusCode?: unknown, requestId?: unknown }
    return retryAfter !== undefined && parsed.statusCode === 503 && typeof parsed.requestId === 'string' && parsed.requestId !== ''
  } catch {
    return false
  }
}

/**
 * Loops POST /v1/sum-of-squares on `connections` keep-alive connections (autocannon) until stopped
 * and sorts every answer: a correct 200, the service's own 503, or anything else.
 */
export function startLoad ({ url, connections, terms, timeoutS = 30, maxDurationS = 300 }: LoadOptions) {
  const expected = closedForm(0, terms).toString()
  const tally: LoadTally = { requests: 0, ok: 0, wrong: 0, serviceRefusals: 0, other: {}, errors: {}, timeouts: 0, durationS: 0, latencyMs: { p50: NaN, p99: NaN, max: NaN } }
  const latencies: number[] = []
  let settle: (error: Error | null, result: autocannon.Result) => void = () => {}
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    settle = (error, result) => { if (error === null) resolve(result); else reject(error) }
  })
  const instance = autocannon({
    url,
    connections,
    duration: maxDurationS,
    timeout: timeoutS,
    requests: [{
      method: 'POST',
      path: '/v1/sum-of-squares',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ end: terms }),
      onResponse: (status, body, _context, headers) => {
        tally.requests++
        if (status === 200) {
          if ((JSON.parse(body) as { result?: string }).result === expected) tally.ok++
          else tally.wrong++
        } else if (isServiceRefusal(status, body, headers ?? {})) {
          tally.serviceRefusals++
        } else {
          const entry = tally.other[status] ??= { count: 0, sample: body.slice(0, 200) }
          entry.count++
        }
      }
    }]
  }, (error, result) => settle(error, result))
  instance.on('response', (_client, statusCode, _bytes, responseTime) => { if (statusCode === 200) latencies.push(responseTime) })
  instance.on('reqError', (error: Error & { code?: string }) => {
    const code = error.code ?? error.message
    tally.errors[code] = (tally.errors[code] ?? 0) + 1
  })

  return {
    tally,
    async stop (): Promise<LoadTally> {
      instance.stop()
      const result = await done
      latencies.sort((a, b) => a - b)
      const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN
      return { ...tally, timeouts: result.timeouts, durationS: result.duration, latencyMs: { p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN } }
    }
  }
}
