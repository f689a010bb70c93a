import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { loggerOptions } from '../src/logger.js'
import { formatTable, medianOf, type BenchRow } from './measure.js'

const request = { method: 'POST' as const, url: '/v1/sum-of-squares', headers: { 'content-type': 'application/json' }, payload: '{"end":1000}' }

/**
 * What the access line costs one request, in microseconds: the same small request (10^3 terms, run on
 * the event loop) through app.inject with LOG_LEVEL=warn and =info, the lines going through the
 * service's asynchronous destination to /dev/null. Alternated twice, so a drift in the machine's
 * speed shows as disagreement between the two passes rather than as a cost.
 */
export async function accessLogBench (): Promise<string> {
  const apps = await Promise.all((['warn', 'info'] as const).map(async (level) => {
    const stream = pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 })
    const app = await buildApp(loadConfig({ LOG_LEVEL: level, POOL_THREADS: '1' }), { logger: loggerOptions(level, false, stream) })
    await app.ready()
    return { level, app }
  }))
  const rows: BenchRow[] = []
  try {
    for (const pass of [1, 2]) {
      for (const { level, app } of pass === 1 ? apps : [...apps].reverse()) {
        rows.push(await medianOf(`LOG_LEVEL=${level}, pass ${pass}`, 1, () => app.inject(request), 2000))
      }
    }
  } finally {
    for (const { app } of apps) await app.close()
  }
  const us = (row: BenchRow) => row.medianNs / 1000
  const cost = [1, 2].map((pass) => us(rows.find((r) => r.name === `LOG_LEVEL=info, pass ${pass}`)!) - us(rows.find((r) => r.name === `LOG_LEVEL=warn, pass ${pass}`)!))
  return formatTable(['request through app.inject', 'median µs/request'], [
    ...rows.map((row) => [row.name, us(row).toFixed(1)]),
    ...cost.map((c, i) => [`access line, pass ${i + 1} (info - warn)`, c.toFixed(1)])
  ])
}
