import type { FastifyInstance } from 'fastify'
import { buildApp, type AppOptions } from '../src/app.js'
import { loadConfig, type Env } from '../src/platform/config.js'
import { checkErrorAnswers } from './support/problem-answers.js'

/** Builds the app in-process with a quiet logger; the caller closes it. Its error answers are checked (support/problem-answers.ts). */
export async function buildTestApp (env: Env = {}, options: AppOptions = {}): Promise<FastifyInstance> {
  // Load shedding off: here the app shares its event loop with the test, whose own work (building a
  // large input) would count as the app's blocks. It is tested on a process of its own (load-shedding.test.ts).
  const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', POOL_THREADS: '2', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', ...env }), options)
  await app.ready()
  checkErrorAnswers(app)
  return app
}

export { closedForm } from './support/closed-form.js'
export { json } from './support/http.js'

/** Term-by-term BigInt reference: slow, obviously right. */
export function bruteForce (start: number, end: number): bigint {
  let sum = 0n
  for (let i = start; i < end; i++) sum += BigInt(i) * BigInt(i)
  return sum
}

/**
 * The value of one sample in Prometheus text output: the series whose name and labels match
 * exactly, or undefined when there is none.
 */
export function sample (exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (match === null || match[1] !== name) continue
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((pair) => [pair[1], pair[2]]))
    const wanted = Object.entries(labels)
    if (wanted.length === Object.keys(found).length && wanted.every(([key, value]) => found[key] === value)) return Number(match[3])
  }
  return undefined
}
