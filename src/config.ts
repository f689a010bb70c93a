import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { INLINE_MAX_TERMS } from './compute/sum-of-squares-job.js'

const int = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER).min(min).max(max))

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')

export const configSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Worker threads in the pool: one per core is the sweet spot for CPU-bound tasks. */
  POOL_THREADS: int(1, 256).default(() => availableParallelism()),
  /**
   * Nice value of the worker threads, 0-19 (Linux only: there each thread has its own). Higher lets
   * the event loop take a core from a busy worker at once, keeping the service responsive.
   */
  POOL_WORKER_NICE: int(0, 19).default(10),
  /** Upper bound on `end - start` for one sum-of-squares request (at most 2^53 - 1, where float64 stops being exact). */
  MAX_TERMS: int(1, Number.MAX_SAFE_INTEGER).default(10_000_000_000),
  /**
   * Sum-of-squares ranges of at most this many terms (without an explicit `chunks`) run on the event
   * loop: cheaper than a pool round trip and bounded well under a millisecond. 0 sends everything to the executor.
   */
  INLINE_MAX_TERMS: int(0, 1_000_000).default(INLINE_MAX_TERMS),
  /** `inline` runs tasks on the event loop; it exists only to show what blocking costs. */
  EXECUTOR: z.enum(['pool', 'inline']).default('pool'),
  /**
   * After SIGTERM, how long readiness reports 503 while the service still serves, before it stops
   * listening: time for a load balancer to notice. 0 outside an orchestrator.
   */
  SHUTDOWN_DRAIN_DELAY_MS: int(0, 600_000).default(0),
  /** Once the listener has closed, how long in-flight work gets to finish before the process is forced out (exit 1). */
  SHUTDOWN_GRACE_MS: int(100, 3_600_000).default(10_000),
  /** Registers the test-only fault endpoint. Never enable it in production. */
  ENABLE_TEST_FAULTS: bool.default(false)
})

export type Config = z.output<typeof configSchema>
export type Env = Record<string, string | undefined>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/**
 * Parses the environment once, at start-up, and fails naming each bad variable.
 * Pure: tests pass the object they want, the process passes `process.env`.
 * An empty value counts as unset, so `FOO= node ...` keeps FOO's default.
 */
export function loadConfig (env: Env = {}): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''))
  const result = configSchema.safeParse(present)
  if (result.success) return result.data
  const lines = result.error.issues.map((issue) => {
    const name = String(issue.path[0])
    return `  ${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`
  })
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
}
