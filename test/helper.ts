import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { loadConfig, type Env } from '../src/config.js'

/** Builds the app in-process with a quiet logger; the caller closes it. */
export async function buildTestApp (env: Env = {}): Promise<FastifyInstance> {
  const app = await buildApp(loadConfig({ LOG_LEVEL: 'silent', POOL_THREADS: '2', ...env }))
  await app.ready()
  return app
}

/** Python's sum(i*i for i in range(start, end)) by the closed form F(end) - F(start), F(n) = n(n-1)(2n-1)/6. */
export function closedForm (start: number | bigint, end: number | bigint): bigint {
  const f = (n: bigint) => (n * (n - 1n) * (2n * n - 1n)) / 6n
  const [a, b] = [BigInt(start), BigInt(end)]
  return b <= a ? 0n : f(b) - f(a)
}

/** Term-by-term BigInt reference: slow, obviously right. */
export function bruteForce (start: number, end: number): bigint {
  let sum = 0n
  for (let i = start; i < end; i++) sum += BigInt(i) * BigInt(i)
  return sum
}

export const json = { 'content-type': 'application/json' }
