import type { FastifyInstance, FastifyPluginAsync, FastifyRequest, RouteOptions } from 'fastify'
import type { Config } from '../config.js'
import { computeErrorResponses } from '../error-body.js'
import { UnsupportedMediaTypeError } from '../errors.js'
import { COMPUTE_TAG } from '../openapi-conventions.js'
import accessControl from './access-control.js'
import computeRequests from './compute-requests.js'
import { shedUnderPressure } from './load-shedding.js'

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
 * shedding (503), then admission and the deadline (503, 504). Not wrapped in fastify-plugin: the
 * guards' hooks reach the routes registered here and no others, so a compute route cannot skip
 * them, and health, probe, metrics and docs never see them.
 */
export default async function computeScope (app: FastifyInstance, { config, routes }: ComputeScopeOptions) {
  app.addHook('onRoute', (route) => { documentGuards(route, config.API_KEYS !== undefined) })
  await app.register(accessControl, { config })
  shedUnderPressure(app)
  await app.register(computeRequests, { requestTimeoutMs: config.REQUEST_TIMEOUT_MS })
  refuseOtherMediaTypes(app)
  for (const route of routes) await app.register(route, { config })
}

/**
 * Documents what every compute route shares, so a new route needs nothing but its own schema: the
 * compute tag (which also brings the deadline and timing headers, src/openapi-conventions.ts), an
 * operationId from its path (`/v1/sum-of-squares` is `sumOfSquares`), the errors it can answer
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

/** The last path segment in camelCase: `/v1/sum-of-squares` is `sumOfSquares`. */
export function operationIdOf (url: string): string {
  return url.slice(url.lastIndexOf('/') + 1).replace(/[-_.]+(\w)/g, (_match, letter: string) => letter.toUpperCase())
}

/**
 * 415 in the error shape for any body the route does not take, naming the types it does: the
 * media types of its body schema, or JSON. A route taking another type adds its own parser.
 */
function refuseOtherMediaTypes (app: FastifyInstance) {
  const refuse = (request: FastifyRequest) => new UnsupportedMediaTypeError(
    request.headers['content-type'] ?? '(none)',
    acceptedTypes(request).join(' or ')
  )
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('*', (request, _payload, done) => { done(refuse(request)) })
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) throw refuse(request)
  })
}

function acceptedTypes (request: FastifyRequest): string[] {
  const body = request.routeOptions.schema?.body as { content?: Record<string, unknown> } | undefined
  return body?.content === undefined ? ['application/json'] : Object.keys(body.content)
}
