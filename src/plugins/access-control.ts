import bearerAuth from '@fastify/bearer-auth'
import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { apiKeyOf } from '../clients/client-identity.js'
import type { Config } from '../platform/config.js'
import { RateLimitedError, UnauthorizedError } from '../errors.js'
import { redisStoreWithLocalFallback } from '../clients/rate-limit-store.js'
import { createRedisClient } from '../platform/redis-client.js'

export interface AccessControlOptions {
  config: Pick<Config, 'API_KEYS' | 'RATE_LIMIT_MAX' | 'RATE_LIMIT_WINDOW_MS' | 'REDIS_URL'>
}

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>

/**
 * An API key when API_KEYS is set, then a per-client rate limit when RATE_LIMIT_MAX is set, for
 * every route of the scope it is registered in (the compute scope). Both run in onRequest, before
 * the body is read. With REDIS_URL the counts live in Redis: one limit across every replica.
 */
async function accessControlPlugin (app: FastifyInstance, { config }: AccessControlOptions) {
  const guards: Guard[] = []

  if (config.API_KEYS !== undefined) {
    // bearer-auth compares keys with crypto.timingSafeEqual; with addHook off it hands its error
    // to us, and the service's own error goes through the one error handler.
    await app.register(bearerAuth, { keys: config.API_KEYS, addHook: false, verifyErrorLogLevel: 'debug' })
    const verify = app.verifyBearerAuth!
    guards.push((request, reply) => new Promise<void>((resolve, reject) => {
      verify(request, reply, (error) => {
        if (error === undefined) return resolve()
        reply.header('www-authenticate', 'Bearer')
        reject(new UnauthorizedError())
      })
    }))
  }

  if (config.RATE_LIMIT_MAX !== undefined) {
    const window = `${config.RATE_LIMIT_WINDOW_MS / 1000} s`
    const log = app.log.child({ store: 'rate-limit' })
    const redis = config.REDIS_URL === undefined
      ? undefined
      // Half a second: one tiny script per request, and a local count is a fine answer meanwhile.
      : createRedisClient(config.REDIS_URL, log, { name: 'compute-service', kind: 'request', commandTimeoutMs: 500, connectTimeoutMs: 1000 })
    // disconnect, not quit: quit would wait for a Redis that may be gone.
    if (redis !== undefined) app.addHook('onClose', async () => { redis.disconnect() })
    await app.register(rateLimit, {
      global: false,
      // The IETF RateLimit fields (ratelimit-limit, -remaining, -reset) instead of x-ratelimit-*.
      enableDraftSpec: true,
      max: config.RATE_LIMIT_MAX,
      timeWindow: config.RATE_LIMIT_WINDOW_MS,
      // With keys, a client is its key (the key has been verified by then): many clients behind one
      // proxy are not lumped together. Without, the default: request.ip (IPv6 by /64), which is the
      // forwarded client address when TRUST_PROXY trusts the peer.
      ...(config.API_KEYS !== undefined ? { keyGenerator: apiKeyOf } : {}),
      // While Redis does not answer or is full, each replica counts on its own (rate-limit-store.ts):
      // the limit never opens, and the compute routes, which do not need Redis, stay up.
      ...(redis !== undefined ? { store: redisStoreWithLocalFallback(redis, 'compute-service:rate-limit:', log) } : {}),
      // Seconds, as Retry-After says.
      errorResponseBuilder: (_request, context) => new RateLimitedError(context.max, window, `${Math.ceil(context.ttl / 1000)} s`)
    })
    guards.push(app.rateLimit())
  }

  if (guards.length === 0) return
  app.addHook('onRequest', async (request, reply) => {
    for (const guard of guards) await guard(request, reply)
  })
}

export default fp(accessControlPlugin, { name: 'access-control' })
