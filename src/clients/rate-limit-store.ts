import { createRequire } from 'node:module'
import type { FastifyBaseLogger } from 'fastify'
import type { FastifyRateLimitOptions, FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit'
import type { Redis } from 'ioredis'

type StoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, ...rest: unknown[]) => FastifyRateLimitStore
// @fastify/rate-limit's own two stores (not in its types): the shared count and the local one stay theirs.
const require = createRequire(import.meta.url)
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as StoreCtor
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as StoreCtor

/** After a failed Redis count, counts stay local this long before Redis is asked again. */
const RETRY_REDIS_MS = 1000

type Incr = FastifyRateLimitStore['incr']
type ChildOptions = Parameters<FastifyRateLimitStore['child']>[0]

/**
 * A rate-limit store that counts in Redis (one limit across replicas) and, while Redis does not
 * answer or refuses writes (full), counts in this process instead. The limit never opens: a client
 * still gets at most RATE_LIMIT_MAX per window from each replica. Failing closed instead would turn a
 * Redis outage into an outage of every compute route, which do not need Redis to run.
 */
export function redisStoreWithLocalFallback (redis: Redis, nameSpace: string, log: FastifyBaseLogger): FastifyRateLimitStoreCtor {
  let localUntil = 0

  class FallbackStore implements FastifyRateLimitStore {
    constructor (private readonly shared: FastifyRateLimitStore, private readonly local: FastifyRateLimitStore) {}

    incr (...[key, callback, timeWindow, max]: Parameters<Incr>): void {
      if (Date.now() < localUntil) return this.local.incr(key, callback, timeWindow, max)
      this.shared.incr(key, (error, result) => {
        if (error === null) return callback(null, result)
        if (Date.now() >= localUntil) log.warn({ err: error }, 'rate limit: Redis cannot count; counting in this process')
        localUntil = Date.now() + RETRY_REDIS_MS
        this.local.incr(key, callback, timeWindow, max)
      }, timeWindow, max)
    }

    child (routeOptions: ChildOptions): FastifyRateLimitStore {
      return new FallbackStore(this.shared.child(routeOptions), this.local.child(routeOptions))
    }
  }

  return class extends FallbackStore {
    constructor (options: FastifyRateLimitOptions) {
      const continueExceeding = (options as { continueExceeding?: boolean }).continueExceeding ?? false
      const exponentialBackoff = (options as { exponentialBackoff?: boolean }).exponentialBackoff ?? false
      super(new RedisStore(continueExceeding, exponentialBackoff, redis, nameSpace), new LocalStore(continueExceeding, exponentialBackoff))
    }
  }
}
