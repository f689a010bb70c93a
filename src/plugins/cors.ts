import cors from '@fastify/cors'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

export interface CorsOptions {
  /** CORS_ORIGINS: `*`, or the origins allowed. */
  origins: '*' | string[]
}

/** Headers a page may send: the key, the body's type, its own request id and a shorter deadline. */
const ALLOWED_HEADERS = ['authorization', 'content-type', 'x-request-id', 'x-timeout-ms']
/** Headers a page may read: a browser hides every other one from cross-origin scripts. */
const EXPOSED_HEADERS = ['location', 'retry-after', 'server-timing', 'x-request-id', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'www-authenticate', 'allow']

/**
 * CORS for the whole API when CORS_ORIGINS is set (@fastify/cors): preflights are answered
 * before any guard (a browser sends no key with them), and every answer, errors included, carries
 * the CORS headers, so a page can read a 429's Retry-After. No cookies are used: credentials are not allowed.
 */
async function corsPlugin (app: FastifyInstance, { origins }: CorsOptions) {
  await app.register(cors, {
    origin: origins,
    methods: ['GET', 'HEAD', 'POST', 'DELETE'],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    // Ten minutes of preflights saved per page and route; short enough for a change of origins to apply soon.
    maxAge: 600,
    // Balancers poll /health, browsers preflight every new route: neither needs an access line.
    logLevel: 'warn'
  })
}

export default fp(corsPlugin, { name: 'cors' })
