import { STATUS_CODES } from 'node:http'
import { z } from 'zod'

const issue = z.object({ path: z.string(), message: z.string() })

/** Most validation issues an error answer lists; the rest are counted in `moreIssues`. */
export const MAX_ISSUES = 10

/** The one error shape every route answers with. */
export const errorBody = z.object({
  statusCode: z.int(),
  error: z.string(),
  message: z.string(),
  requestId: z.string(),
  issues: z.array(issue).max(MAX_ISSUES).optional().describe(`The first ${MAX_ISSUES} validation issues, each naming the field`),
  moreIssues: z.int().optional().describe('How many further issues there were, beyond those listed')
}).meta({
  id: 'ErrorBody',
  examples: [{
    statusCode: 400,
    error: 'Bad Request',
    message: 'Invalid body: body.end: end must be greater than or equal to start',
    requestId: '297b52fc-c05f-45b1-930a-35a0acc356bc',
    issues: [{ path: 'body.end', message: 'end must be greater than or equal to start' }]
  }]
})

export type ErrorBody = z.output<typeof errorBody>
export type ErrorIssue = z.output<typeof issue>

/** Error statuses every compute route can answer with; the compute scope adds them to each route's schema. */
export const computeErrorResponses = {
  400: errorBody.describe('Malformed body or one that fails validation; `issues` names each field (the first 10; `moreIssues` counts the rest); two Content-Type headers'),
  401: errorBody.describe('Missing or wrong API key (only when the service runs with API_KEYS)'),
  408: errorBody.describe('The body did not arrive within the deadline, or arrived slower than the minimum rate; the connection is closed'),
  413: errorBody.describe('Body over the size limit (a smaller one for JSON than for binary bodies)'),
  415: errorBody.describe('Unsupported content type; the message names the accepted ones'),
  429: errorBody.describe('Rate limit exceeded (only when the service runs with RATE_LIMIT_MAX); `Retry-After` says when to retry'),
  500: errorBody.describe('Internal failure; the message never carries internals'),
  503: errorBody.describe('Shutting down, queue full (or this client\'s share of it), upload memory full, or overloaded; `Retry-After` says when to retry'),
  504: errorBody.describe('The request did not finish within its deadline (REQUEST_TIMEOUT_MS or `X-Timeout-Ms`); its tasks were aborted')
}

/** The error shape of an error kept outside a response (a failed job's document). */
export function errorBodyOf (error: { statusCode: number, message: string }, requestId: string): ErrorBody {
  return { statusCode: error.statusCode, error: STATUS_CODES[error.statusCode] ?? 'Error', message: error.message, requestId }
}
