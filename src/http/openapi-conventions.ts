import { errorExamples } from './error-body.js'

/** The tag the compute scope gives each of its routes unless they name their own; the conventions below key off it. */
export const COMPUTE_TAG = 'compute'
/** The job routes' tag: they share the compute scope's guards, and answer without Server-Timing. */
export const JOBS_TAG = 'jobs'

interface Header { description: string, schema: Record<string, unknown> }
interface Media { schema?: unknown, example?: unknown }
interface Response { description: string, headers?: Record<string, Header>, content?: Record<string, Media> }
interface Parameter { in: string, name: string, required?: boolean, description?: string, schema?: unknown }
interface Operation { tags?: string[], parameters?: Parameter[], responses: Record<string, Response> }
export interface OpenApiDocument { paths: Record<string, Record<string, Operation>> }

export interface ConventionOptions {
  /** RATE_LIMIT_MAX is set: compute responses carry the rate-limit headers. */
  rateLimited: boolean
}

const requestId: Header = {
  description: 'The request id: the caller\'s own X-Request-Id when it is 1-128 characters of letters, digits and . _ : -, else a new UUID. Every log line of the request carries it.',
  schema: { type: 'string' }
}
const retryAfter: Header = { description: 'Seconds to wait before retrying', schema: { type: 'string', pattern: '^\\d+$' } }
const serverTiming: Header = {
  description: 'kernel;dur=<ms>, total;dur=<ms>: time in the task functions (summed over chunks) and the handler\'s wall time',
  schema: { type: 'string' }
}
const rateLimitHeaders: Record<string, Header> = {
  'x-ratelimit-limit': { description: 'Requests allowed per window (RATE_LIMIT_MAX)', schema: { type: 'string' } },
  'x-ratelimit-remaining': { description: 'Requests left in the current window', schema: { type: 'string' } },
  'x-ratelimit-reset': { description: 'Seconds until the window resets', schema: { type: 'string' } }
}

/**
 * What every operation shares, written once into the generated document: the X-Request-Id header
 * both ways, an example of its own for every error status, Retry-After on 429 and 503. Compute
 * and job operations (both in the compute scope) add X-Timeout-Ms and, with a rate limit, its
 * headers (on every answer but 401: the key is checked before the limit); compute ones add
 * Server-Timing on success.
 */
export function applyConventions (doc: OpenApiDocument, { rateLimited }: ConventionOptions): OpenApiDocument {
  for (const operation of Object.values(doc.paths).flatMap((methods) => Object.values(methods))) {
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
        ...(code === 429 || code === 503 ? { 'retry-after': retryAfter } : {}),
        ...(compute && code === 200 ? { 'server-timing': serverTiming } : {}),
        ...(guarded && rateLimited && code !== 401 ? rateLimitHeaders : {})
      }
      if (code < 400) continue
      const example = errorExamples[code]
      if (example === undefined) throw new Error(`no example error body for status ${code}: add one to errorExamples (src/http/error-body.ts)`)
      for (const media of Object.values(response.content ?? {})) media.example = example
    }
  }
  return doc
}
