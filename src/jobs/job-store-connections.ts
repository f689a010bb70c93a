import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from '../platform/config.js'
import { createRedisClient } from '../platform/redis-client.js'

export interface JobStoreConnections {
  /** Requests' commands: each fails fast, before its deadline, while Redis is away or slow (503). */
  commands: Redis
  /** Pub/sub of job changes and cancels: waits for Redis. */
  subscriber: Redis
  /** BullMQ's worker: its blocking commands must not time out. */
  workerConnection: Redis
}

/** The job back end's three Redis connections, connected; fails naming REDIS_URL when Redis cannot be reached. */
export async function connectJobStore (config: Pick<Config, 'REDIS_COMMAND_TIMEOUT_MS'> & { REDIS_URL: string }, log: FastifyBaseLogger): Promise<JobStoreConnections> {
  const connections = {
    commands: createRedisClient(config.REDIS_URL, log, { name: 'compute-jobs', kind: 'request', commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, lazyConnect: true }),
    subscriber: createRedisClient(config.REDIS_URL, log, { name: 'compute-jobs-events', kind: 'blocking', lazyConnect: true }),
    workerConnection: createRedisClient(config.REDIS_URL, log, { name: 'compute-jobs-worker', kind: 'blocking', lazyConnect: true })
  }
  const all = Object.values(connections)
  try {
    await Promise.all(all.map((redis) => redis.connect()))
  } catch (error) {
    for (const redis of all) redis.disconnect()
    throw new Error(`cannot reach Redis at REDIS_URL: ${(error as Error).message}`)
  }
  return connections
}
