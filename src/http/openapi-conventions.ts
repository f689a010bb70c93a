import { problemTypeOf } from '../errors.js'
import { errorExamples, PROBLEM_JSON, problemBody, type ErrorBody } from './error-body.js'

/** The tag the compute scope gives each of its routes unless they name their own; the conventions below key off it. */
export const COMPUTE_TAG = 'compute'
/** The job routes' tag: they share the compute scope's guards, and answer without Server-Timing. */
export const JOBS_TAG = 'jobs'
const EXAMPLE_ID = 'f5fa3cb9-8768-48c5-ad11-27784c2536fd'
const EXAMPLE_REQUEST_ID = '297b52fc-c05f-45b1-930a-35a0acc356bc'

/** Each error response's codes, by `<operationId> <status>` (noted by src/plugins/openapi.ts). */
export type ProblemCodes = Map<string, readonly string[]>

interface Header { description: string, schema: Record<string, unknown> }
interface Media { schema?: unknown, example?: unknown }
interface Response { description: string, headers?: Record<string, Header>, content?: Record<string, Media> }
interface Parameter { in: string, name: string, required?: boolean, description?: string, schema?: unknown }
interface Operation { operationId?: string, tags?: string[], parameters?: Parameter[], responses: Record<string, Response> }
export interface OpenApiDocument { paths: Record<string, Record<string, Operation>> }

export interface ConventionOptions {
  /** RATE_LIMIT_MAX is set: compute responses carry the rate-limit headers. */
  rateLimited: boolean
  codes: ProblemCodes
}

const requestId: Header = {
  description: 'The request id: the caller\'s own X-Request-Id when it is 1-128 characters of letters, digits and . _ : -, else a new UUID. Every log line of the request carries it.',
  schema: { type: 'string' }
}
const retryAfter: Header = {
  description: 'Seconds to wait before retrying, estimated from the cause (the work queued ahead, the jobs ending); absent when shutting down, where another instance should take the retry',
  schema: { type: 'string', pattern: '^\\d+$' }
}
const location: Header = { description: 'The URL of what was created', schema: { type: 'string', format: 'uri-reference' } }
const wwwAuthenticate: Header = { description: 'Bearer: the scheme the API key is sent with', schema: { type: 'string' } }
const serverTiming: Header = {
  description: 'kernel;dur=<ms>, total;dur=<ms>: time in the task functions (summed over chunks) and the handler\'s wall time',
  schema: { type: 'string' }
}
// The IETF draft's fields (draft-ietf-httpapi-ratelimit-headers), as @fastify/rate-limit's enableDraftSpec sends them.
const rateLimitHeaders: Record<string, Header> = {
  'ratelimit-limit': { description: 'Requests allowed per window (RATE_LIMIT_MAX)', schema: { type: 'string', pattern: '^\\d+$' } },
  'ratelimit-remaining': { description: 'Requests left in the current window', schema: { type: 'string', pattern: '^\\d+$' } },
  'ratelimit-reset': { description: 'Seconds until the window resets', schema: { type: 'string', pattern: '^\\d+$' } }
}

/**
 * What every operation shares, written once into the generated document: the X-Request-Id header
 * both ways, Location on 201 and 202, WWW-Authenticate on 401, Retry-After on 429 and 503, and every
 * error as application/problem+json whose `code` is one of those its response lists, with an
 * example. Compute and job operations (both in the compute scope) add X-Timeout-Ms and, with a rate
 * limit, its headers (on every answer but 401: the key is checked before the limit); compute ones
 * add Server-Timing on success.
 */
export function applyConventions (doc: OpenApiDocument, { rateLimited, codes }: ConventionOptions): OpenApiDocument {
  for (const [path, operation] of Object.entries(doc.paths).flatMap(([path, methods]) => Object.values(methods).map((one) => [path, one] as const))) {
    const compute = operation.tags?.includes(COMPUTE_TAG) === true
    const guarded = compute || operation.tags?.includes(JOBS_TAG) === true
    operation.parameters = [
      ...(operation.parameters ?? []),
      { in: 'header', name: 'x-request-id', required: false, description: 'An id of the caller\'s own to follow the request by (echoed back, and in the logs)', schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' } },
      ...(guarded
        ? [{ in: 'header', name: 'x-timeout-ms', required: false, description: 'A deadline shorter than the service\'s own (REQUEST_TIMEOUT_MS), in milliseconds; past it the request gets 504 and its tasks are aborted', schema: { type: 'string', pattern: '^\\d{1,10}$' } }]
        : [])
    ]
    for (const [status, response] of Object.entries(operation.responses)) {
      const code = Number(status)
      response.headers = {
        ...response.headers,
        'x-request-id': requestId,
        ...(code === 201 || code === 202 ? { location } : {}),
        ...(code === 401 ? { 'www-authenticate': wwwAuthenticate } : {}),
        ...(code === 429 || code === 503 ? { 'retry-after': retryAfter } : {}),
        ...(compute && code === 200 ? { 'server-timing': serverTiming } : {}),
        ...(guarded && rateLimited && code !== 401 ? rateLimitHeaders : {})
      }
      if (code < 400) continue
      const listed = codes.get(`${operation.operationId ?? ''} ${status}`)
      if (listed === undefined) throw new Error(`${operation.operationId ?? 'an operation'} ${status}: list its codes with problemResponse (src/http/error-body.ts)`)
      response.content = { [PROBLEM_JSON]: problemMedia(code, listed, path.replaceAll(/\{\w+\}/g, EXAMPLE_ID)) }
    }
  }
  return doc
}

/** An error response's media: the shared schema with `code` narrowed to the ones listed, and an example of one of them. */
function problemMedia (status: number, codes: readonly string[], instance: string): Media {
  return {
    schema: { allOf: [{ $ref: '#/components/schemas/ErrorBody' }, { type: 'object', properties: { code: { type: 'string', enum: [...codes] } } }] },
    example: { ...exampleOf(status, codes), instance }
  }
}

/** The status's shared example when its code is one listed, else the first code's problem, its title as the detail. */
function exampleOf (status: number, codes: readonly string[]): ErrorBody {
  const shared = errorExamples[status]
  if (shared !== undefined && codes.includes(shared.code)) return shared
  const problem = problemTypeOf(codes[0])
  if (problem === undefined) throw new Error(`status ${status}: no problem type for code ${codes[0] ?? '(none)'} (src/errors.ts)`)
  return problemBody(problem, problem.title, undefined, EXAMPLE_REQUEST_ID)
}
