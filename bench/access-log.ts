import { performance } from 'node:perf_hooks'
import { setImmediate as yieldToIo } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/platform/config.js'
import { loggerOptions } from '../src/platform/logger.js'
import { formatTable } from './measure.js'

const request = { method: 'POST' as const, url: '/v1/sum-of-squares', headers: { 'content-type': 'application/json' }, payload: '{"end":1000}' }
const REQUESTS = 4000
const PASSES = 7

/** Microseconds per request over REQUESTS sequential injects, letting I/O (the log writes) run every 50. */
async function timePass (app: FastifyInstance): Promise<number> {
  const started = performance.now()
  for (let i = 0; i < REQUESTS; i++) {
    await app.inject(request)
    if (i % 50 === 49) await yieldToIo()
  }
  return (performance.now() - started) * 1000 / REQUESTS
}

/**
 * What the access line costs one request, in microseconds: the same small request (10^3 terms, run on
 * the event loop) through app.inject with LOG_LEVEL=warn and =info, the lines going through the
 * service's asynchronous destination to /dev/null. Passes alternate between the two, and the table
 * gives the median pass of each, so a drift in the machine's speed does not read as a cost.
 */
export async function accessLogBench (): Promise<string> {
  const apps = await Promise.all((['warn', 'info'] as const).map(async (level) => {
    const stream = pino.destination({ dest: '/dev/null', sync: false, minLength: 4096 })
    const app = await buildApp(loadConfig({ LOG_LEVEL: level, POOL_THREADS: '1' }), { logger: loggerOptions(level, false, stream) })
    await app.ready()
    await timePass(app) // warm-up
    return { level, app, passes: [] as number[] }
  }))
  try {
    for (let pass = 0; pass < PASSES; pass++) {
      for (const entry of pass % 2 === 0 ? apps : [...apps].reverse()) entry.passes.push(await timePass(entry.app))
    }
  } finally {
    for (const { app } of apps) await app.close()
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
  const [warn, info] = apps.map((entry) => median(entry.passes)) as [number, number]
  return formatTable(['request through app.inject, 10^3 terms', 'median µs/request'], [
    ['LOG_LEVEL=warn', warn.toFixed(1)],
    ['LOG_LEVEL=info (one access line)', info.toFixed(1)],
    ['the access line', `${(info - warn).toFixed(1)} (${((info / warn - 1) * 100).toFixed(1)}%)`]
  ])
}
