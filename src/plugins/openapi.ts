import { readFileSync } from 'node:fs'
import helmet from '@fastify/helmet'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { applyConventions, COMPUTE_TAG, JOBS_TAG, type OpenApiDocument, type ProblemCodes } from '../http/openapi-conventions.js'
import { codesOf } from '../http/error-body.js'
import { projectPath } from '../platform/paths.js'

export interface OpenApiOptions {
  /** Whether compute routes require an API key: the document then describes the scheme (the compute scope marks its routes). */
  requireApiKey: boolean
  /** Whether compute routes are rate limited: their responses then document the rate-limit headers. */
  rateLimited: boolean
}

const packageJson = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { name: string, version: string, description: string }

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas that validate requests, at
 * GET /openapi.json, and Swagger UI at /docs (its assets ship inside the package: no CDN), under a
 * restrictive Content-Security-Policy.
 * Registered before any route: @fastify/swagger learns routes from its onRoute hook.
 */
async function openApiPlugin (app: FastifyInstance, { requireApiKey, rateLimited }: OpenApiOptions) {
  const codes: ProblemCodes = new Map()
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: packageJson.name, version: packageJson.version, description: packageJson.description },
      tags: [
        { name: COMPUTE_TAG, description: 'CPU work on the worker pool, behind the API key, rate limit, load shedding and deadline' },
        { name: JOBS_TAG, description: 'Computations longer than a request: start, follow, read and cancel, behind the same guards' },
        { name: 'health', description: 'Liveness and readiness, for orchestrators and load balancers' },
        { name: 'monitoring', description: 'Load, metrics and version of this instance' }
      ],
      ...(requireApiKey ? { components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'One of the keys in API_KEYS' } } } } : {})
    },
    transform: (input) => {
      noteProblemCodes(input, codes)
      return transformBodyByContentType(input) ?? jsonSchemaTransform(input)
    },
    transformObject: (input) => applyConventions(jsonSchemaTransformObject(input) as unknown as OpenApiDocument, { rateLimited, codes }) as unknown as ReturnType<typeof jsonSchemaTransformObject>
  })
  await app.register(async (docs) => {
    await docs.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP }, frameguard: { action: 'deny' } })
    await docs.register(swaggerUi, { routePrefix: '/docs' })
  })

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger())
}

/**
 * Swagger UI's page loads only its own scripts, styles and the document, from this origin, and
 * may not be framed (clickjacking). No `upgrade-insecure-requests`: the service may be reached
 * over plain HTTP inside a cluster. Scoped to /docs: the API answers JSON, not pages.
 */
const DOCS_CSP = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  // The one inline style Swagger UI's bundle (5.x) inserts, by its hash: a new version may need another.
  styleSrc: ["'self'", "'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"]
}

type TransformInput = Parameters<typeof jsonSchemaTransform>[0]

/**
 * fastify-type-provider-zod converts a request body given per content type
 * (`body: { content: { type: { schema } } }`) only for responses; here each media type's zod schema
 * is converted on its own and the body put back together, as @fastify/swagger expects it.
 */
function transformBodyByContentType (input: TransformInput): ReturnType<typeof jsonSchemaTransform> | undefined {
  const { body, ...rest } = input.schema as { body?: { content?: Record<string, { schema: unknown }> } }
  if (body?.content === undefined) return undefined
  const output = jsonSchemaTransform({ ...input, schema: rest })
  const content = Object.fromEntries(Object.entries(body.content).map(([type, { schema }]) =>
    [type, { schema: (jsonSchemaTransform({ ...input, schema: { body: schema } }).schema as { body: unknown }).body }]))
  output.schema = { ...output.schema, body: { content } }
  return output
}

/**
 * Notes each error response's codes (problemResponse, src/http/error-body.ts) by operationId, for
 * applyConventions to make them the enum of that response's `code`: @fastify/swagger keeps no
 * extra keyword beside a `$ref`.
 */
function noteProblemCodes (input: TransformInput, codes: ProblemCodes): void {
  const schema = input.schema as { operationId?: string, response?: Record<string, unknown> }
  for (const [status, response] of Object.entries(schema.response ?? {})) {
    const documented = codesOf(response)
    if (documented === undefined) continue
    if (schema.operationId === undefined) throw new Error(`${input.url}: a route whose errors list their codes needs an operationId`)
    codes.set(`${schema.operationId} ${status}`, documented)
  }
}

export default fp(openApiPlugin, { name: 'openapi' })
