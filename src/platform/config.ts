import { availableParallelism } from 'node:os'
import { z } from 'zod'
import { apiKeys, bool, corsOrigins, int, traceExporterList, trustProxy } from './config-values.js'
import { jobMaxInputBytes, traceExportersOf, uploadShareOf } from './config-derived.js'
import { defaultMaxConnections } from '../clients/connection-limits.js'
import { defaultUploadMemory, largestReservedBody } from '../uploads/upload-memory.js'
import { EXECUTOR_KINDS } from '../executor/executor.js'
import { defaultJobThreads } from '../executor/fair-queue.js'

/** Most chunks one job may be cut into. */
export const MAX_JOB_CHUNKS = 2 ** 24

/** Variables whose values are never echoed, not even in a configuration error (a Redis URL may hold a password). */
const SECRET = new Set(['API_KEYS', 'REDIS_URL'])

export const configSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Worker threads in the pool: one per core is the sweet spot for CPU-bound tasks. */
  POOL_THREADS: int(1, 256).default(() => availableParallelism()),
  /**
   * Estimated milliseconds of work that may wait for a thread before new work gets 503; default 1000
   * per thread. Each client may hold an equal share of it while others wait (docs/hostile-clients.md).
   */
  POOL_MAX_QUEUE_MS: int(0, 3_600_000).optional(),
  /** V8 old-generation heap limit of each worker thread, in MiB: a task that exceeds it fails alone. */
  WORKER_MAX_OLD_GENERATION_MB: int(16, 65_536).default(512),
  /**
   * Deadline of every compute request, from its arrival, upload included; a client may ask for a
   * shorter one with `X-Timeout-Ms`. A body still arriving at the deadline gets 408.
   */
  REQUEST_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
  /** Time a client has to send a request's headers (Node's headersTimeout), capped at REQUEST_TIMEOUT_MS. */
  HEADERS_TIMEOUT_MS: int(1, 3_600_000).default(10_000),
  /**
   * Slowest upload accepted: a body that brings fewer bytes than this per second (or than it has
   * left) over any UPLOAD_RATE_WINDOW_MS gets 408 and its connection closed. 0 turns the rule off.
   */
  UPLOAD_MIN_BYTES_PER_SECOND: int(0, 1024 ** 3).default(32 * 1024),
  UPLOAD_RATE_WINDOW_MS: int(500, 600_000).default(5000),
  /**
   * Memory that request bodies in flight may hold, off-heap included, reserved from Content-Length
   * before a byte is read (a JSON body counts JSON_MEMORY_FACTOR times its size); past it uploads
   * get 503. Default: a quarter of the memory the process may use (src/uploads/upload-memory.ts).
   */
  UPLOAD_MEMORY_MAX_BYTES: int(1024, Number.MAX_SAFE_INTEGER).default(() => defaultUploadMemory()),
  /** Mean event-loop delay (ms, over a second) above which compute requests are shed with 503; 0 turns it off. */
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: int(0, 600_000).default(1000),
  /** Heap used (MiB) above which compute requests are shed with 503; default 90% of V8's heap limit. */
  PRESSURE_MAX_HEAP_USED_MB: int(1, 1_048_576).optional(),
  /** Upper bound on `end - start` for one sum-of-squares request (at most 2^53 - 1, where float64 stops being exact). */
  MAX_TERMS: int(1, Number.MAX_SAFE_INTEGER).default(10_000_000_000),
  /**
   * Largest binary (application/octet-stream) body POST /v1/sum and POST /v1/dot accept: 64 MiB is
   * 8M float64 values. At most 256 MiB.
   */
  BODY_LIMIT_BYTES: int(8, 256 * 1024 * 1024).default(64 * 1024 * 1024),
  /**
   * Largest JSON body any compute route accepts. JSON costs 10-20 times its size in memory and is
   * parsed on the event loop (docs/hostile-clients.md): large inputs belong in the binary format.
   * At most 256 MiB: V8 caps strings at about 512 MiB.
   */
  JSON_BODY_LIMIT_BYTES: int(8, 256 * 1024 * 1024).default(1024 * 1024),
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
   * Which peers may say who the client is (X-Forwarded-For, -Proto, -Host): false, a hop count, or
   * comma-separated addresses and CIDRs of the proxies (safest). Rate limits and logs then see the
   * client, not the balancer. A hop count only where clients cannot reach the service but through
   * the proxies; true is refused (docs/deploying-replicas.md).
   */
  TRUST_PROXY: trustProxy.default(false),
  /**
   * Browser origins that may call the API from their pages (CORS): `*`, or comma-separated origins.
   * Unset: no CORS headers, and browsers keep other origins out. Off by default: opening the API to
   * pages is a decision about who may spend its keys' quota from a browser.
   */
  CORS_ORIGINS: corsOrigins.optional(),
  /**
   * Redis shared by every replica (redis:// or rediss://): the job queue and the rate limiter keep
   * their state there. Unset: both live in this process.
   */
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional(),
  /** Upper bound on `end - start` for one job (POST /v1/jobs). */
  JOB_MAX_TERMS: int(1, Number.MAX_SAFE_INTEGER).default(100_000_000_000_000),
  /**
   * Terms per job chunk: 10^9 runs in 0.3 to 1 s on one thread (docs/jobs.md). A replica that dies
   * loses at most a chunk.
   */
  JOB_CHUNK_TERMS: int(1, Number.MAX_SAFE_INTEGER).default(1_000_000_000),
  /**
   * Largest binary input of one job (POST /v1/jobs?task=sum|dot|stats, application/octet-stream);
   * 413 beyond. A job holds it while active, in memory or in Redis: 8 MiB is a million values, and
   * JOBS_MAX_ACTIVE_PER_KEY of them 128 MiB per client. At most BODY_LIMIT_BYTES, the upload budget's
   * unit (the default is the smaller of the two).
   */
  JOB_MAX_INPUT_BYTES: int(8, 256 * 1024 * 1024).optional(),
  /** Jobs that may be queued or running at once (in Redis mode: across every replica); 503 beyond. */
  JOBS_MAX_ACTIVE: int(1, 100_000).default(256),
  /** Seconds a finished job stays readable before it answers 404. */
  JOB_TTL_S: int(1, 30 * 86_400).default(3600),
  /** Pool threads that may run job chunks at once; default all but one, so a request always finds a thread. */
  JOB_THREADS: int(1, 256).optional(),
  /**
   * Redis mode: how long a replica's claim on a chunk lasts without renewal. A replica that dies
   * holds its chunks this long, plus up to the same again for the stalled check, before another takes them.
   */
  JOB_LOCK_MS: int(1000, 600_000).default(10_000),
  /** Serves GET /metrics on this port, on a listener of its own, instead of on PORT; with REDIS_URL, bull-board at /admin/queues too. */
  METRICS_PORT: int(1, 65535).optional(),
  /**
   * The git commit this code was built from, for GET /version and `compute_build_info`. The image sets it
   * (build argument GIT_COMMIT); elsewhere `npm run build` records it in dist/commit.txt.
   */
  GIT_COMMIT: z.string().trim().regex(/^([0-9a-f]{7,64}|unknown)$/, 'expected a git commit hash (hex) or "unknown"').optional(),
  /**
   * OpenTelemetry tracing is off unless asked for with the standard variables: OTEL_TRACES_EXPORTER=otlp
   * (or console), or an OTLP endpoint. The exporter reads the rest of OTEL_EXPORTER_OTLP_* (headers,
   * protocol, timeout) itself. OTEL_SDK_DISABLED=true turns it all off.
   */
  OTEL_SDK_DISABLED: bool.default(false),
  OTEL_TRACES_EXPORTER: traceExporterList.optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** The service.name of every span; the package name when unset. */
  OTEL_SERVICE_NAME: z.string().trim().min(1).optional(),
  // issue 17: streams
  /**
   * Event streams (GET /v1/jobs/{id}/events) open at once in this process; past it, 503. A stream
   * holds a socket and some 20-60 KB for as long as its job runs: 4000 stay well under the default
   * 20,000 file descriptors and a few hundred MB, leaving room for every other request.
   */
  EVENT_STREAMS_MAX: int(1, 1_000_000).default(4000),
  /**
   * Event streams one client (its API key, else its address) may hold open at once; past it, 429.
   * 32 follows more jobs at once than a dashboard shows, and takes 125 clients to fill EVENT_STREAMS_MAX.
   */
  EVENT_STREAMS_MAX_PER_CLIENT: int(1, 1_000_000).default(32),
  // issue 17: connections
  /**
   * Connections open at once; past it a new one gets 503 and is closed. Default: the file-descriptor
   * soft limit less a fifth (at least 512) for everything else that needs one (src/clients/connection-limits.ts),
   * at most 65,536. Above 90% of it, idle keep-alive connections are closed, oldest idle first.
   */
  MAX_CONNECTIONS: int(1, 10_000_000).default(() => defaultMaxConnections()),
  /**
   * Connections one address (an IPv6 one by its /64) may hold; past it a new one gets 429 and is
   * closed. 256 is all the sockets a browser opens in all (6 per host); TRUST_PROXY's listed proxies are exempt.
   */
  MAX_CONNECTIONS_PER_CLIENT: int(1, 10_000_000).default(256),
  /**
   * How long an idle keep-alive connection stays open. Longer than HAProxy (deploy/haproxy) keeps an
   * idle server connection to reuse (its pool-purge-delay closes half of them every 5 s; with maxconn
   * 24 none lasts 30 s) and than its 35 s `timeout server`, so the service is not the side that closes
   * a connection HAProxy is about to reuse; shorter than Fastify's 72 s (docs/hostile-clients/connections.md).
   */
  KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000).default(40_000),
  // issue 17: uploads
  /**
   * Upload memory one client (API key, else address) may hold at once; past it its uploads get 429
   * while others still get theirs. Default: a quarter of UPLOAD_MEMORY_MAX_BYTES, but at least the
   * largest body with Content-Length as reserved (BODY_LIMIT_BYTES, or JSON_BODY_LIMIT_BYTES x 16).
   */
  UPLOAD_MEMORY_PER_CLIENT_BYTES: int(1024, Number.MAX_SAFE_INTEGER).optional(),
  /**
   * Bytes of JSON bodies waiting to be parsed (parsed one at a time, one per event-loop turn); past
   * it JSON bodies get 503, and a client past a quarter of it (at least JSON_BODY_LIMIT_BYTES) 429.
   * Default 8 x JSON_BODY_LIMIT_BYTES: about a second of the worst JSON to parse.
   */
  JSON_PARSE_MAX_BYTES: int(8, Number.MAX_SAFE_INTEGER).optional(),
  // issue 17: jobs
  /**
   * Queued or running jobs one client (its API key, else its address) may hold; 429 beyond. 16 is a
   * sixteenth of JOBS_MAX_ACTIVE's default: one client cannot take every slot, and 16 jobs already
   * keep every job thread of a replica busy (chunks of all active jobs interleave).
   */
  JOBS_MAX_ACTIVE_PER_KEY: int(1, 100_000).default(16),
  /**
   * Finished jobs kept per client; past it the client's oldest finished job is evicted (404). 1,000
   * keeps every result of a client that starts a job every 3.6 s for the whole default JOB_TTL_S.
   */
  JOBS_MAX_STORED_PER_KEY: int(1, 1_000_000).default(1000),
  /**
   * Finished jobs kept in all (every replica's in Redis mode); past it the oldest overall is evicted.
   * 20,000 is twenty clients' full share: about 20 MB in Redis, 60 MB embedded (docs/hostile-clients/jobs.md).
   */
  JOBS_MAX_STORED: int(1, 10_000_000).default(20_000),
  // issue 17: redis
  /**
   * Redis mode: how long a job route's Redis command may wait for its reply before the request
   * answers 503 "slow". Keep it below REQUEST_TIMEOUT_MS. A command takes well under a millisecond,
   * but a burst of hundreds of submits or cancels queues on the one connection and, on a busy host,
   * took over a second; 5 s covers that and leaves most of the default 30 s deadline.
   */
  REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000).default(5000)
})
  .refine((config) => config.METRICS_PORT !== config.PORT, { path: ['METRICS_PORT'], message: 'must differ from PORT' })
  .refine((config) => config.JOB_THREADS === undefined || config.JOB_THREADS <= config.POOL_THREADS, { path: ['JOB_THREADS'], message: 'must be at most POOL_THREADS' })
  // A job keeps one bit per chunk (docs/jobs.md): 2^24 chunks is a 2 MiB bitmap.
  .refine((config) => Math.ceil(config.JOB_MAX_TERMS / config.JOB_CHUNK_TERMS) <= MAX_JOB_CHUNKS, {
    path: ['JOB_CHUNK_TERMS'],
    message: `must be at least JOB_MAX_TERMS / ${MAX_JOB_CHUNKS}: a job is cut into at most ${MAX_JOB_CHUNKS} chunks`
  })
  // A float64 value is one unit of work: the largest binary input is cut into as many chunks as it holds.
  .refine((config) => Math.ceil(jobMaxInputBytes(config) / 8 / config.JOB_CHUNK_TERMS) <= MAX_JOB_CHUNKS, {
    path: ['JOB_CHUNK_TERMS'],
    message: `must be at least JOB_MAX_INPUT_BYTES / 8 / ${MAX_JOB_CHUNKS}: a job is cut into at most ${MAX_JOB_CHUNKS} chunks`
  })
  .refine((config) => config.JOB_MAX_INPUT_BYTES === undefined || config.JOB_MAX_INPUT_BYTES <= config.BODY_LIMIT_BYTES, {
    path: ['JOB_MAX_INPUT_BYTES'],
    message: 'must be at most BODY_LIMIT_BYTES: the upload budget and its per-client share are sized for bodies up to it'
  })
  .refine((config) => config.UPLOAD_MEMORY_MAX_BYTES >= config.BODY_LIMIT_BYTES, {
    path: ['UPLOAD_MEMORY_MAX_BYTES'],
    message: 'must be at least BODY_LIMIT_BYTES, or no body of the largest size could ever be read: raise it, or lower BODY_LIMIT_BYTES'
  })
  .refine((config) => config.UPLOAD_MEMORY_PER_CLIENT_BYTES === undefined || config.UPLOAD_MEMORY_PER_CLIENT_BYTES <= config.UPLOAD_MEMORY_MAX_BYTES, {
    path: ['UPLOAD_MEMORY_PER_CLIENT_BYTES'],
    message: 'must be at most UPLOAD_MEMORY_MAX_BYTES'
  })
  .refine((config) => config.UPLOAD_MEMORY_PER_CLIENT_BYTES === undefined ||
    config.UPLOAD_MEMORY_PER_CLIENT_BYTES >= Math.min(config.UPLOAD_MEMORY_MAX_BYTES, largestReservedBody(config.BODY_LIMIT_BYTES, config.JSON_BODY_LIMIT_BYTES)), {
    path: ['UPLOAD_MEMORY_PER_CLIENT_BYTES'],
    message: 'must be at least BODY_LIMIT_BYTES and 16 x JSON_BODY_LIMIT_BYTES (as far as UPLOAD_MEMORY_MAX_BYTES allows), or a body of the largest size would not fit in a client\'s share'
  })
  .refine((config) => config.JSON_PARSE_MAX_BYTES === undefined || config.JSON_PARSE_MAX_BYTES >= config.JSON_BODY_LIMIT_BYTES, {
    path: ['JSON_PARSE_MAX_BYTES'],
    message: 'must be at least JSON_BODY_LIMIT_BYTES, or a JSON body of the largest size could never be parsed'
  })
  .transform((config) => ({
    ...config,
    UPLOAD_MEMORY_PER_CLIENT_BYTES: uploadShareOf(config),
    JSON_PARSE_MAX_BYTES: config.JSON_PARSE_MAX_BYTES ?? 8 * config.JSON_BODY_LIMIT_BYTES,
    POOL_MAX_QUEUE_MS: config.POOL_MAX_QUEUE_MS ?? config.POOL_THREADS * 1000,
    HEADERS_TIMEOUT_MS: Math.min(config.HEADERS_TIMEOUT_MS, config.REQUEST_TIMEOUT_MS),
    JOB_THREADS: config.JOB_THREADS ?? defaultJobThreads(config.POOL_THREADS),
    JOB_MAX_INPUT_BYTES: jobMaxInputBytes(config),
    traceExporters: traceExportersOf(config)
  }))

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
  const lines = Object.keys(REPLACED).filter((name) => name in present)
    .map((name) => `  ${name}=${JSON.stringify(present[name])}: ${REPLACED[name]}`)
  if (result.success && lines.length === 0) return result.data
  for (const issue of result.error?.issues ?? []) {
    const name = String(issue.path[0])
    const value = SECRET.has(name) ? '[redacted]' : JSON.stringify(present[name] ?? '')
    lines.push(`  ${name}=${value}: ${issue.message}`)
  }
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`)
}

/** Settings that no longer exist, and what took their place: refused rather than silently ignored. */
const REPLACED: Record<string, string> = {
  POOL_MAX_QUEUE: 'no longer exists: the queue is bounded in estimated work, POOL_MAX_QUEUE_MS (default 1000 per thread)'
}
