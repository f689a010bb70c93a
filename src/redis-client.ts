import type { FastifyBaseLogger } from 'fastify'
import { Redis } from 'ioredis'

/**
 * A client for REDIS_URL tuned for state that sits in front of every request: a command that Redis
 * does not answer within half a second fails, rather than holding the request while ioredis
 * reconnects, and its caller decides what a missing answer means.
 */
export function createRedisClient (url: string, log: FastifyBaseLogger): Redis {
  const client = new Redis(url, {
    connectionName: 'compute-service',
    connectTimeout: 1000,
    commandTimeout: 500,
    maxRetriesPerRequest: 1
  })
  // ioredis reconnects by itself (backing off to 2 s) and reports each failed attempt here; an
  // unhandled 'error' event would end the process.
  client.on('error', (err: Error) => { log.warn({ err }, 'redis unreachable; retrying') })
  return client
}
