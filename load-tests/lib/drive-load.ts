import autocannon from 'autocannon'
import { performance } from 'node:perf_hooks'
import { closedForm } from '../../test/support/closed-form.js'
import { summarize, type Summary } from './stats.js'

export interface LoadOptions {
  url: string
  terms: number
  connections: number
  durationS: number
  signal: AbortSignal
  /** Called once a second with the responses of that second. */
  onSecond?: (second: number, responses: number) => void
}

export interface LoadResult {
  /** Epoch milliseconds. */
  startedAt: number
  endedAt: number
  durationS: number
  /** 2xx responses per second over the whole run. */
  requestsPerSecond: number
  ok: number
  non2xx: number
  errors: number
  timeouts: number
  /** 200 answers whose `result` was not the exact sum: every answer is checked, a peer's too. */
  wrong: number
  /** Client-side latency of the 2xx compute responses (autocannon's own histogram keeps whole milliseconds only). */
  latencyMs: Summary
  /** From each response's Server-Timing header: the handler's wall time, and the kernel's time inside it. */
  serverTotalMs: Summary
  kernelMs: Summary
  /** 2xx responses in each second of the run, for the chart. */
  perSecond: number[]
}

/** `kernel;dur=0.312, total;dur=0.451` into { kernel: 0.312, total: 0.451 }. */
export function parseServerTiming (header: string | string[] | undefined): Record<string, number> {
  const timings: Record<string, number> = {}
  for (const metric of [header ?? []].flat().join(',').split(',')) {
    const [name, ...params] = metric.trim().split(';')
    const dur = params.map((param) => param.trim()).find((param) => param.startsWith('dur='))
    if (name !== undefined && name !== '' && dur !== undefined) timings[name] = Number(dur.slice(4))
  }
  return timings
}

/** Drives POST /v1/sum-of-squares with autocannon for `durationS`, or until `signal` aborts. */
export async function driveLoad (options: LoadOptions): Promise<LoadResult> {
  const kernel: number[] = []
  const total: number[] = []
  const perSecond: number[] = []
  const latency: number[] = []
  // Both the service and a peer write `"result":"<digits>"` with no space (JSON.stringify, Go's encoder).
  const expected = `"result":"${closedForm(0, options.terms)}"`
  let wrong = 0
  options.signal.throwIfAborted()
  const startedAt = performance.timeOrigin + performance.now()

  let finished: (error: Error | null, result: autocannon.Result) => void = () => {}
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = (error, result) => { if (error === null) resolve(result); else reject(error) }
  })
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    timeout: 30,
    requests: [{
      method: 'POST',
      path: '/v1/sum-of-squares',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ start: 0, end: options.terms }),
      onResponse: (status, body, _context, headers) => {
        if (status !== 200) return
        if (!body.includes(expected)) wrong++
        const timing = parseServerTiming(headers?.['server-timing'])
        if (timing.kernel !== undefined) kernel.push(timing.kernel)
        if (timing.total !== undefined) total.push(timing.total)
      }
    }]
  }, (error, result) => finished(error, result))
  let ok = 0
  let okAtLastTick = 0
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode < 200 || statusCode >= 300) return
    ok++
    latency.push(responseTime)
  })
  const seconds = Math.ceil(options.durationS)
  instance.on('tick', () => {
    // The last tick comes after the stop, with whatever the final fraction of a second returned.
    if (perSecond.length === seconds || options.signal.aborted) return
    perSecond.push(ok - okAtLastTick)
    okAtLastTick = ok
    options.onSecond?.(perSecond.length, perSecond.at(-1)!)
  })
  const stop = () => instance.stop()
  options.signal.addEventListener('abort', stop, { once: true })
  let result: autocannon.Result
  try {
    result = await done
  } finally {
    options.signal.removeEventListener('abort', stop)
  }
  options.signal.throwIfAborted()
  const endedAt = performance.timeOrigin + performance.now()

  return {
    startedAt,
    endedAt,
    durationS: result.duration,
    requestsPerSecond: result['2xx'] / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    wrong,
    latencyMs: summarize(latency),
    serverTotalMs: summarize(total),
    kernelMs: summarize(kernel),
    perSecond
  }
}
