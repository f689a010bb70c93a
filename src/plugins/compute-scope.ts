import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify'
import type { Config } from '../platform/config.js'
import { computeErrorResponses } from '../http/error-body.js'
import { AmbiguousContentTypeError, JsonParseQueueFullError, JsonParseShareFullError, JsonTooDeepError, UnsupportedMediaTypeError } from '../errors.js'
import { jsonDepthExceeds } from '../uploads/json-depth.js'
import { COMPUTE_TAG } from '../http/openapi-conventions.js'
import accessControl from './access-control.js'
import computeRequests, { mediaTypeOf } from './compute-requests.js'
import loadShedding from './load-shedding.js'

export interface ComputeRouteOptions {
  config: Config
}

/** A plugin that registers one compute route: its schemas and its handler. */
export type ComputeRoute = FastifyPluginAsync<ComputeRouteOptions>

export interface ComputeScopeOptions {
  config: Config
  routes: ComputeRoute[]
}

/**
 * Every compute route, behind its guards, in this order: API key and rate limit (401, 429), load
 * shedding (503), the deadline (504), the body's media type (400, 415), then the upload's limits
 * and the pool's admission (408, 413, 503). Not wrapped in fastify-plugin: the
 * guards' hooks reach the routes registered here and no others, so a compute route cannot skip
 * them, and health, probe, metrics and docs never see them.
 */
export default async function computeScope (app: FastifyInstance, { config, routes }: ComputeScopeOptions) {
  app.addHook('onRoute', (route) => { documentGuards(route, config.API_KEYS !== undefined) })
  await app.register(accessControl, { config })
  await app.register(loadShedding, {
    maxEventLoopDelayMs: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.PRESSURE_MAX_HEAP_USED_MB === undefined ? undefined : config.PRESSURE_MAX_HEAP_USED_MB * 2 ** 20
  })
  await app.register(computeRequests, config)
  refuseOtherMediaTypes(app)
  refuseDeepJson(app)
  for (const route of routes) await app.register(route, { config })
}

/** Deepest JSON nesting a compute body may have: none needs more than three levels. */
const MAX_JSON_DEPTH = 32

/**
 * Fastify's own JSON parser (prototype-poisoning checks included), after a one-pass depth check:
 * deep nesting costs JSON.parse far more event-loop time than its size suggests. Bodies take turns
 * on the event loop (src/uploads/json-parse-queue.ts): 429 past the client's share of the JSON waiting, 503
 * past the whole queue's.
 */
function refuseDeepJson (app: FastifyInstance) {
  const parse = app.getDefaultJsonParser('error', 'error')
  const queue = app.uploads.jsonParses
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string
    const refused = queue.enqueue(request.computeClient, text.length, () => {
      if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) return done(new JsonTooDeepError(MAX_JSON_DEPTH), undefined)
      parse(request, text, done)
    })
    if (refused === 'share') done(new JsonParseShareFullError(queue.stats().perClientBytes), undefined)
    else if (refused === 'full') done(new JsonParseQueueFullError(), undefined)
  })
}

/**
 * Documents what every compute route shares, so a new route needs nothing but its own schema: the
 * compute tag (which also brings the deadline and timing headers, src/http/openapi-conventions.ts), an
 * operationId from its path when it names none (`/v1/sum-of-squares` is `sumOfSquares`), the errors it can answer
 * with, and its API key.
 */
function documentGuards (route: RouteOptions, requireApiKey: boolean) {
  const schema = route.schema ?? {}
  route.schema = {
    ...schema,
    operationId: schema.operationId ?? operationIdOf(route.url),
    tags: schema.tags ?? [COMPUTE_TAG],
    response: { ...computeErrorResponses, ...(schema.response as object | undefined) },
    ...(requireApiKey && schema.hide !== true ? { security: [{ bearerAuth: [] }] } : {})
  }
}

/** The last path segment in camelCase: `/v1/sum-of-squares` is `sumOfSquares`. A declared task names its own. */
export function operationIdOf (url: string): string {
  return camelCase(url.slice(url.lastIndexOf('/') + 1))
}

/** `sum-of-squares` is `sumOfSquares`. */
export function camelCase (name: string): string {
  return name.replace(/[-_.]+(\w)/g, (_match, letter: string) => letter.toUpperCase())
}

/**
 * 415 in the error shape for any body the route does not take, naming the types it does: the
 * media types of its body schema, or JSON; refused before a byte of the body is read. A route
 * taking another type adds its own parser. Two Content-Type headers get 400: Node would keep the
 * first one silently, and a proxy in front might have judged the request by the other.
 */
function refuseOtherMediaTypes (app: FastifyInstance) {
  const refuse = (request: FastifyRequest) => new UnsupportedMediaTypeError(
    request.headers['content-type'] ?? '(none)',
    acceptedTypes(request).join(' or ')
  )
  app.addHook('onRequest', async (request) => {
    const types = contentTypeHeaders(request)
    if (types > 1) throw new AmbiguousContentTypeError(types)
    if (types === 1 && hasBody(request) && !acceptedTypes(request).includes(mediaTypeOf(request))) throw refuse(request)
  })
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('*', (request, _payload, done) => { done(refuse(request)) })
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) throw refuse(request)
  })
}

function contentTypeHeaders (request: FastifyRequest): number {
  const raw = request.raw.rawHeaders
  let count = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 12 && raw[i]!.toLowerCase() === 'content-type') count++
  return count
}

function hasBody (request: FastifyRequest): boolean {
  const length = request.headers['content-length']
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
}

function acceptedTypes (request: FastifyRequest): string[] {
  const body = request.routeOptions.schema?.body as { content?: Record<string, unknown> } | undefined
  return body?.content === undefined ? ['application/json'] : Object.keys(body.content)
}
