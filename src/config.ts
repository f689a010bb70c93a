import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { EXECUTOR_KINDS } from './executor/executor.js'

const int = (min: number, max: number) =>
  z.string().trim().regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().max(Number.MAX_SAFE_INTEGER).min(min).max(max))

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')

// RFC 6750 b64token: what can travel in `Authorization: Bearer <key>` unchanged.
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const apiKeys = z.string().transform((list) => list.split(',').map((key) => key.trim()).filter(Boolean))
  .pipe(z.array(z.string()
    .min(16, 'each key must be at least 16 characters')
    .regex(BEARER_TOKEN, 'each key must be a bearer token: letters, digits and - . _ ~ + / only'))
    .min(1, 'expected at least one key'))

/** Variables whose values are never echoed, not even in a configuration error (a Redis URL may hold a password). */
const SECRET = new Set(['API_KEYS', 'REDIS_URL'])

export const configSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Worker threads in the pool: one per core is the sweet spot for CPU-bound tasks. */
  POOL_THREADS: int(1, 256).default(() => availableParallelism()),
  /**
   * Tasks that may wait for a thread before new work gets 503; default 8 per thread. A large request
   * brings one task per thread, so with 2 threads that is 8 such requests waiting: enough for a
   * handful of concurrent clients, bounded well inside REQUEST_TIMEOUT_MS for typical tasks.
   */
  POOL_MAX_QUEUE: int(0, 1_000_000).optional(),
  /** V8 old-generation heap limit of each worker thread, in MiB: a task that exceeds it fails alone. */
  WORKER_MAX_OLD_GENERATION_MB: int(16, 65_536).default(512),
  /** Deadline of every compute request; a client may ask for a shorter one with `X-Timeout-Ms`. */
  REQUEST_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
  /** Mean event-loop delay (ms, over a second) above which compute requests are shed with 503; 0 turns it off. */
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: int(0, 600_000).default(1000),
  /** Heap used (MiB) above which compute requests are shed with 503; default 90% of V8's heap limit. */
  PRESSURE_MAX_HEAP_USED_MB: int(1, 1_048_576).optional(),
  /** Upper bound on `end - start` for one sum-of-squares request (at most 2^53 - 1, where float64 stops being exact). */
  MAX_TERMS: int(1, Number.MAX_SAFE_INTEGER).default(10_000_000_000),
  /**
   * Largest request body POST /v1/sum accepts, JSON or binary (64 MiB is 8M float64 values). Other routes
   * keep Fastify's 1 MiB. At most 256 MiB: a JSON body is parsed from one string, and V8 caps strings
   * at about 512 MiB.
   */
  BODY_LIMIT_BYTES: int(8, 256 * 1024 * 1024).default(64 * 1024 * 1024),
  /**
   * Nice value of the worker threads, 0-19 (Linux only: there each thread has its own). Higher lets
   * the event loop take a core from a busy worker at once, keeping the service responsive.
   */
  POOL_WORKER_NICE: int(0, 19).default(10),
  /**
   * Sum-of-squares ranges of at most this many terms (without an explicit `chunks`) run on the event
   * loop: cheaper than a pool round trip (docs/performance.md). 0 sends everything to the executor.
   */
  INLINE_MAX_TERMS: int(0, 1_000_000).default(20_000),
  /** `inline` runs tasks on the event loop; it exists only to show what blocking costs. */
  EXECUTOR: z.enum(EXECUTOR_KINDS).default('pool'),
  /**
   * After SIGTERM, how long readiness reports 503 while the service still serves, before it stops
   * listening: time for a load balancer to notice. 0 outside an orchestrator.
   */
  SHUTDOWN_DRAIN_DELAY_MS: int(0, 600_000).default(0),
  /** Once the listener has closed, how long in-flight work gets to finish before the process is forced out (exit 1). */
  SHUTDOWN_GRACE_MS: int(100, 3_600_000).default(10_000),
  /** Registers the test-only fault endpoint. Never enable it in production. */
  ENABLE_TEST_FAULTS: bool.default(false),
  /**
   * Comma-separated API keys; when set, every compute route (every route in the compute scope) requires
   * `Authorization: Bearer <one of them>`. Unset: no authentication.
   */
  API_KEYS: apiKeys.optional(),
  /**
   * Requests one client may make to the compute routes per RATE_LIMIT_WINDOW_MS (a client is its
   * API key when keys are set, else its IP address). Unset: no rate limit.
   */
  RATE_LIMIT_MAX: int(1, 1_000_000_000).optional(),
  RATE_LIMIT_WINDOW_MS: int(1000, 86_400_000).default(60_000),
  /**
   * Redis shared by every replica (redis:// or rediss://): the job queue and the rate limiter keep
   * their state there. Unset: both live in this process.
   */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  /** Serves GET /metrics on this port, on a listener of its own, instead of on PORT. */
  METRICS_PORT: int(1, 65535).optional(),
  /**
   * The git commit this code was built from, for GET /version and `build_info`. The image sets it
   * (build argument GIT_COMMIT); elsewhere `npm run build` records it in dist/commit.txt.
   */
  GIT_COMMIT: z.string().trim().regex(/^([0-9a-f]{7,64}|unknown)$/, 'expected a git commit hash (hex) or "unknown"').optional(),
  /**
   * OpenTelemetry tracing is off unless asked for with the standard variables: OTEL_TRACES_EXPORTER=otlp
   * (or console), or an OTLP endpoint. The exporter reads the rest of OTEL_EXPORTER_OTLP_* (headers,
   * protocol, timeout) itself. OTEL_SDK_DISABLED=true turns it all off.
   */
  OTEL_SDK_DISABLED: bool.default(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** The service.name of every span; the package name when unset. */
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional()
})
  .refine((config) => config.METRICS_PORT !== config.PORT, { path: ['METRICS_PORT'], message: 'must differ from PORT' })
  .transform((config) => ({ ...config, POOL_MAX_QUEUE: config.POOL_MAX_QUEUE ?? config.POOL_THREADS * 8, tracesExporter: tracesExporterOf(config) }))

/** Where traces go: opt-in, by the standard variables (an OTLP endpoint alone means OTLP). */
function tracesExporterOf (env: { OTEL_SDK_DISABLED: boolean, OTEL_TRACES_EXPORTER?: 'otlp' | 'console' | 'none', OTEL_EXPORTER_OTLP_ENDPOINT?: string, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string }): 'otlp' | 'console' | undefined {
  if (env.OTEL_SDK_DISABLED || env.OTEL_TRACES_EXPORTER === 'none') return undefined
  if (env.OTEL_TRACES_EXPORTER !== undefined) return env.OTEL_TRACES_EXPORTER
  return env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined ? 'otlp' : undefined
}

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
    const value = SECRET.has(name) ? '[redacted]' : JSON.stringify(present[name] ?? '')
    return `  ${name}=${value}: ${issue.message}`
  })
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
}
