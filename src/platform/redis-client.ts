import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'

export interface RedisClientOptions {
  /** CLIENT SETNAME, so an operator can tell the service's connections apart in CLIENT LIST. */
  name: string
  /**
   * `request`: a command Redis does not answer within `commandTimeoutMs` fails, and a command sent
   * while Redis is away fails after one retry, so a request answers 503 before its deadline.
   * `blocking`: BullMQ's worker and pub/sub connections wait for Redis as long as it takes (BullMQ
   * requires maxRetriesPerRequest null there, and a timeout would break its blocking commands).
   */
  kind: 'request' | 'blocking'
  commandTimeoutMs?: number
  /** ioredis's own default is 10 s: long enough for a busy host at start-up. */
  connectTimeoutMs?: number
  /** Connect on `connect()`, not at once (the jobs back end awaits its connections at start-up). */
  lazyConnect?: boolean
}

/** The one place REDIS_URL connections are made, so every request-path client has a command timeout. */
export function createRedisClient (url: string, log: FastifyBaseLogger, { name, kind, commandTimeoutMs = 500, connectTimeoutMs = 10_000, lazyConnect = false }: RedisClientOptions): Redis {
  const client = new Redis(url, {
    connectionName: name,
    lazyConnect,
    connectTimeout: connectTimeoutMs,
    ...(kind === 'request'
      ? { commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 1 }
      : { maxRetriesPerRequest: null })
  })
  // ioredis reconnects by itself (backing off to 2 s) and reports each failed attempt here; an
  // unhandled 'error' event would end the process.
  client.on('error', (err: Error) => { log.warn({ err, connection: name }, 'redis unreachable; retrying') })
  return client
}
