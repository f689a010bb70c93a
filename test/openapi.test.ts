import { Validator } from '@seriousme/openapi-schema-validator'
import type { FastifyInstance, RouteOptions } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { problemTypeOf } from '../src/errors.js'
import { errorExamples, type ErrorBody } from '../src/http/error-body.js'
import type { ComputeRoute } from '../src/plugins/compute-scope.js'
import { buildTestApp } from './helper.js'

interface Operation {
  operationId?: string
  tags?: string[]
  parameters?: Array<{ in: string, name: string }>
  requestBody?: { content: Record<string, { example?: unknown, examples?: unknown }> }
  responses: Record<string, {
    description?: string
    headers?: Record<string, { description?: string, schema: unknown }>
    content?: Record<string, { schema: { $ref?: string, examples?: unknown[], allOf?: Array<{ $ref?: string, properties?: { code?: { enum?: string[] } } }> }, example?: unknown, examples?: unknown }>
  }>
  security?: Array<Record<string, string[]>>
}
interface Document {
  openapi: string
  tags?: Array<{ name: string }>
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, { examples?: unknown[] }>, securitySchemes?: Record<string, unknown> }
}

/** Routes that are not part of the contract: the documentation's own, and the test-only fault route. */
const undocumented = (url: string) => url === '/openapi.json' || url === '/docs' || url.startsWith('/docs/') || url === '/v1/test-fault'

/** Fastify route pattern to OpenAPI path template: `/a/:id` becomes `/a/{id}`. */
const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

const operations = (doc: Document) => Object.entries(doc.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })))

describe('the OpenAPI document at GET /openapi.json', () => {
  let app: FastifyInstance
  let doc: Document
  const routes: Array<Pick<RouteOptions, 'method' | 'url' | 'schema'>> = []
  beforeAll(async () => {
    app = await buildTestApp({ ENABLE_TEST_FAULTS: 'true', API_KEYS: 'test-key-0123456789abcdef' }, {
      onRoute: (route) => { routes.push({ method: route.method, url: route.url, schema: route.schema }) }
    })
    doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
  })
  afterAll(async () => { await app.close() })

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(doc as never)
    expect(result.errors).toBeUndefined()
    expect(result.valid).toBe(true)
    expect(doc.openapi).toBe('3.1.0')
  })

  it('lists every route the app registered, except the docs and the test-only route', () => {
    // HEAD routes are Fastify's automatic twins of GET routes.
    const registered = routes.flatMap((route) => [route.method].flat().map((method) => `${method} ${openApiPath(route.url!)}`))
      .filter((name) => !name.startsWith('HEAD ') && !undocumented(name.split(' ')[1]!))
    expect(registered).toContain('POST /v1/sum-of-squares')
    expect(registered).toContain('GET /metrics')
    expect(operations(doc).map((o) => o.name).sort()).toEqual([...new Set(registered)].sort())
  })

  it('hides the test-only fault route although it is registered', () => {
    expect(routes.map((route) => route.url)).toContain('/v1/test-fault')
    expect(Object.keys(doc.paths)).not.toContain('/v1/test-fault')
  })

  it('documents each request body, with an example', () => {
    const withBody = routes.filter((route) => route.schema?.body !== undefined && !undocumented(route.url!))
    expect(withBody.length).toBeGreaterThan(0)
    for (const route of withBody) {
      const operation = doc.paths[openApiPath(route.url!)]![String(route.method).toLowerCase()]!
      const media = Object.values(operation.requestBody?.content ?? {})
      expect(media.length, `${route.method} ${route.url}`).toBeGreaterThan(0)
      // One example is enough where a route takes several content types (a binary body has none to show).
      expect(media.some((type) => (type.example ?? type.examples) !== undefined), `${route.method} ${route.url}`).toBe(true)
    }
  })

  it('gives every success response an example and every error response the one error shape, as problem+json, with the codes it may carry', () => {
    expect(doc.components.schemas.ErrorBody!.examples).toHaveLength(1)
    for (const { name, operation } of operations(doc)) {
      const statuses = Object.keys(operation.responses)
      expect(statuses.some((status) => status.startsWith('2')), name).toBe(true)
      for (const status of statuses) {
        const content = operation.responses[status]!.content ?? {}
        if (status.startsWith('2')) {
          for (const media of Object.values(content)) expect(media.example ?? media.examples ?? media.schema.examples, `${name} ${status}`).toBeDefined()
          continue
        }
        expect(Object.keys(content), `${name} ${status}`).toEqual(['application/problem+json'])
        const [shape, narrowed] = content['application/problem+json']!.schema.allOf!
        expect(shape!.$ref, `${name} ${status}`).toBe('#/components/schemas/ErrorBody')
        const codes = narrowed!.properties!.code!.enum!
        expect(codes.length, `${name} ${status}`).toBeGreaterThan(0)
        for (const code of codes) expect(problemTypeOf(code)?.status, `${name} ${status}: ${code}`).toBe(Number(status))
      }
    }
  })

  it('gives every operation a unique operationId and tags the document declares', () => {
    const declared = new Set(doc.tags?.map((tag) => tag.name))
    const ids = operations(doc).map(({ name, operation }) => {
      expect(operation.operationId, name).toMatch(/^[a-z][A-Za-z]+$/)
      expect(operation.tags?.length, name).toBeGreaterThan(0)
      for (const tag of operation.tags!) expect(declared.has(tag), `${name}: tag ${tag}`).toBe(true)
      return operation.operationId
    })
    expect(new Set(ids).size).toBe(ids.length)
    expect(doc.paths['/v1/sum-of-squares']!.post!.operationId).toBe('sumOfSquares')
  })

  it('describes every response, and gives each error status an example of its own, with that status and its real message', () => {
    const seen = new Set<number>()
    for (const { name, operation } of operations(doc)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${name} ${status}`).toMatch(/\w/)
        if (Number(status) < 400) continue
        seen.add(Number(status))
        const media = response.content?.['application/problem+json']
        const example = media?.example as ErrorBody
        const codes = media!.schema.allOf![1]!.properties!.code!.enum!
        // The status's shared example where its code is one this response lists, else one of its own.
        const shared = errorExamples[Number(status)]!
        if (codes.includes(shared.code)) expect(example, `${name} ${status}`).toEqual({ ...shared, instance: expect.any(String) })
        expect([example.status, example.statusCode, codes.includes(example.code)], `${name} ${status}`).toEqual([Number(status), Number(status), true])
      }
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([400, 401, 404, 406, 408, 409, 413, 415, 422, 429, 500, 503, 504])
    const details = [...seen].map((status) => errorExamples[status]!.detail)
    expect(new Set(details).size).toBe(details.length)
    expect(errorExamples[401]!.detail).toMatch(/API key/)
    expect(errorExamples[504]!.detail).toMatch(/deadline/)
  })

  it('documents the request and response headers: X-Request-Id everywhere, X-Timeout-Ms on compute and job routes, Server-Timing on compute routes, Retry-After on 429 and 503, Location on 202, WWW-Authenticate on 401', () => {
    for (const { name, operation } of operations(doc)) {
      const guarded = name.split(' ')[1]!.startsWith('/v1/')
      const compute = guarded && !name.split(' ')[1]!.startsWith('/v1/jobs')
      const parameters = (operation.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name)
      expect(parameters, name).toEqual(guarded ? expect.arrayContaining(['x-request-id', 'x-timeout-ms']) : ['x-request-id'])
      for (const [status, response] of Object.entries(operation.responses)) {
        const headers = Object.keys(response.headers ?? {})
        expect(headers, `${name} ${status}`).toContain('x-request-id')
        expect(headers.includes('retry-after'), `${name} ${status}`).toBe(status === '429' || status === '503')
        expect(headers.includes('server-timing'), `${name} ${status}`).toBe(compute && status === '200')
        expect(headers.some((header) => header.startsWith('ratelimit-')), `${name} ${status}`).toBe(false) // no RATE_LIMIT_MAX here
        expect(headers.includes('location'), `${name} ${status}`).toBe(status === '201' || status === '202')
        expect(headers.includes('www-authenticate'), `${name} ${status}`).toBe(status === '401')
        for (const header of Object.values(response.headers!)) expect(header.description, `${name} ${status}`).toMatch(/\w/)
      }
      if (guarded) expect(Object.keys(operation.responses), name).toContain('504')
    }
  })

  it('lists, in every guarded operation\'s 400, the codes the compute scope answers on any of its routes: a bad X-Timeout-Ms, JSON nested too deep', async () => {
    const headers = { authorization: 'Bearer test-key-0123456789abcdef' }
    const deep = '{"values":' + '['.repeat(40) + ']'.repeat(40) + '}'
    let checked = 0
    for (const { name, operation } of operations(doc)) {
      const [method, path] = name.split(' ') as [string, string]
      if (!path.startsWith('/v1/')) continue
      const listed = operation.responses['400']!.content!['application/problem+json']!.schema.allOf![1]!.properties!.code!.enum!
      const url = path.replace(/\{\w+\}/g, 'f5fa3cb9-8768-48c5-ad11-27784c2536fd')
      const answers = [await app.inject({ method: method as 'GET', url, headers: { ...headers, 'x-timeout-ms': 'soon' } })]
      if (operation.requestBody?.content['application/json'] !== undefined) {
        answers.push(await app.inject({ method: method as 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload: deep }))
      }
      for (const answer of answers) {
        expect(answer.statusCode, name).toBe(400)
        expect(listed, name).toContain(answer.json().code)
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12)
  })

  it('documents 401 and 429 and requires the API key on every compute route, and on no other', () => {
    expect(doc.components.securitySchemes).toEqual({ bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }) })
    for (const { name, operation } of operations(doc)) {
      if (name.split(' ')[1]!.startsWith('/v1/')) {
        expect(operation.security, name).toEqual([{ bearerAuth: [] }])
        expect(Object.keys(operation.responses), name).toEqual(expect.arrayContaining(['400', '401', '429', '500', '503']))
      } else {
        expect(operation.security, name).toBeUndefined()
      }
    }
  })
})

describe('the OpenAPI document with RATE_LIMIT_MAX', () => {
  it('documents the rate-limit headers on every compute response but 401, and on nothing else', async () => {
    const app = await buildTestApp({ RATE_LIMIT_MAX: '10', API_KEYS: 'test-key-0123456789abcdef' })
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document
    await app.close()
    for (const { name, operation } of operations(doc)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const limited = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'].every((header) => header in (response.headers ?? {}))
        expect(limited, `${name} ${status}`).toBe(name.split(' ')[1]!.startsWith('/v1/') && status !== '401')
      }
    }
  })
})

describe('a compute route added to the scope', () => {
  it('is documented like the others with nothing but its own schema: operationId, tag, errors, headers, key', async () => {
    const route: ComputeRoute = async (app) => {
      app.post('/v1/new-thing', { schema: { summary: 'A route that did not exist', response: { 200: z.object({}).describe('Done').meta({ examples: [{}] }) } } }, async () => ({}))
    }
    const app = await buildTestApp({ API_KEYS: 'test-key-0123456789abcdef' }, { computeRoutes: [route] })
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as Document
    await app.close()
    const operation = doc.paths['/v1/new-thing']!.post!
    expect(operation).toMatchObject({ operationId: 'newThing', tags: ['compute'], security: [{ bearerAuth: [] }] })
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '400', '401', '429', '503', '504']))
    expect(Object.keys(operation.responses['200']!.headers!)).toContain('server-timing')
    expect(operation.parameters!.map((p) => p.name)).toContain('x-timeout-ms')
  })
})

describe('the OpenAPI document without API_KEYS', () => {
  it('declares no security scheme', async () => {
    const app = await buildTestApp()
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json()
    await app.close()
    expect(doc.components.securitySchemes).toBeUndefined()
    expect(doc.paths['/v1/sum-of-squares'].post.security).toBeUndefined()
  })
})

describe('Swagger UI at /docs', () => {
  let app: FastifyInstance
  beforeAll(async () => { app = await buildTestApp() })
  afterAll(async () => { await app.close() })

  it('serves its page and scripts from the package itself, with nothing fetched from another host', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/text\/html/)
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!)
    expect(assets.length).toBeGreaterThan(2)
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//)
      expect((await app.inject({ method: 'GET', url: new URL(asset, 'http://x/docs/').pathname })).statusCode, asset).toBe(200)
    }
    // Swagger UI's default would send the document to validator.swagger.io for a badge.
    const initializer = await app.inject({ method: 'GET', url: '/docs/static/swagger-initializer.js' })
    expect(initializer.body).toMatch(/validatorUrl: null/)
    expect(initializer.body).toMatch(/url: resolveUrl\('\.\/json'\)/)
  })

  it('sends a restrictive Content-Security-Policy and refuses to be framed, on the docs routes only', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs/' })
    const csp = String(page.headers['content-security-policy'])
    expect(csp).toMatch(/default-src 'none'/)
    expect(csp).toMatch(/script-src 'self'(;|$)/)
    expect(csp).toMatch(/style-src 'self' 'sha256-[\w+/=]+'(;|$)/)
    expect(csp).toMatch(/frame-ancestors 'none'/)
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|upgrade-insecure-requests/)
    expect(page.headers['x-frame-options']).toBe('DENY')
    // Everything the page loads is from its own origin, which the policy allows.
    for (const path of ['/docs/static/swagger-ui-bundle.js', '/docs/static/swagger-ui.css', '/docs/json']) {
      const asset = await app.inject({ method: 'GET', url: path })
      expect(asset.statusCode, path).toBe(200)
      expect(asset.headers['content-security-policy'], path).toBe(csp)
    }
    const api = await app.inject({ method: 'GET', url: '/probe' })
    expect([api.headers['content-security-policy'], api.headers['x-frame-options']]).toEqual([undefined, undefined])
  })

  it('reads the same document as /openapi.json', async () => {
    const ui = await app.inject({ method: 'GET', url: '/docs/json' })
    const served = await app.inject({ method: 'GET', url: '/openapi.json' })
    expect(ui.json()).toEqual(served.json())
  })
})
