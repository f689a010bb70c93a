/** Statuses that mean "not now": the service refused the request before doing any of it. */
const RETRIED_STATUSES = new Set([429, 503])

export interface RetryOptions {
  /** Retries after the first attempt; 0 turns retrying off. */
  retries?: number
  /** A longer `Retry-After` than this is answered to the caller instead of waited for. */
  maxDelayMs?: number
  /** The fetch to wrap; the global one by default. */
  fetch?: (request: Request) => Promise<Response>
}

/**
 * A fetch that retries a 429 or 503 after the delay its `Retry-After` header asks for. An answer
 * without the header (a shutting-down replica: the balancer retries elsewhere) or asking for longer
 * than `maxDelayMs` is returned as it is. Safe for POSTs: these statuses mean nothing was done.
 */
export function retryingFetch ({ retries = 2, maxDelayMs = 10_000, fetch: inner = (request) => globalThis.fetch(request) }: RetryOptions = {}): (request: Request) => Promise<Response> {
  return async (request) => {
    for (let attempt = 0; ; attempt++) {
      const response = await inner(request.clone())
      const delayMs = RETRIED_STATUSES.has(response.status) ? retryAfterMs(response.headers.get('retry-after')) : undefined
      if (attempt >= retries || delayMs === undefined || delayMs > maxDelayMs) return response
      await response.body?.cancel()
      await sleep(delayMs, request.signal)
    }
  }
}

/** `Retry-After` as milliseconds from now: delta-seconds or an HTTP date (RFC 9110); undefined when absent or unreadable. */
export function retryAfterMs (header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

function sleep (ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = () => { clearTimeout(timer); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
