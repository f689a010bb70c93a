import { STATUS_CODES } from 'node:http'
import { errorCodes } from 'fastify'
import { z } from 'zod'
import {
  DeadlineExceededError, JobActiveError, JobNotFoundError, NonFiniteValueError, NotAcceptableError, QueueFullError, RateLimitedError, UnauthorizedError,
  UnsupportedMediaTypeError, UploadTimeoutError
} from '../errors.js'

const issue = z.object({ path: z.string(), message: z.string() })

/** Most validation issues an error answer lists; the rest are counted in `moreIssues`. */
export const MAX_ISSUES = 10

const EXAMPLE_REQUEST_ID = '297b52fc-c05f-45b1-930a-35a0acc356bc'
const validationExample = {
  statusCode: 400,
  error: 'Bad Request',
  message: 'Invalid body: body.end: end must be greater than or equal to start',
  requestId: EXAMPLE_REQUEST_ID,
  issues: [{ path: 'body.end', message: 'end must be greater than or equal to start' }]
}

/** The one error shape every route answers with. */
export const errorBody = z.object({
  statusCode: z.int(),
  error: z.string(),
  message: z.string(),
  requestId: z.string(),
  issues: z.array(issue).max(MAX_ISSUES).optional().describe(`The first ${MAX_ISSUES} validation issues, each naming the field`),
  moreIssues: z.int().optional().describe('How many further issues there were, beyond those listed')
}).meta({ id: 'ErrorBody', examples: [validationExample] })

export type ErrorBody = z.output<typeof errorBody>
export type ErrorIssue = z.output<typeof issue>

/** Error statuses every compute route can answer with; the compute scope adds them to each route's schema. */
export const computeErrorResponses = {
  400: errorBody.describe('Malformed body or one that fails validation; `issues` names each field (the first 10; `moreIssues` counts the rest); two Content-Type headers'),
  401: errorBody.describe('Missing or wrong API key (only when the service runs with API_KEYS)'),
  408: errorBody.describe('The body did not arrive within the deadline, or arrived slower than the minimum rate; the connection is closed'),
  413: errorBody.describe('Body over the size limit (a smaller one for JSON than for binary bodies)'),
  415: errorBody.describe('Unsupported content type; the message names the accepted ones'),
  429: errorBody.describe('Rate limit exceeded (only when the service runs with RATE_LIMIT_MAX), or this client\'s share of upload memory or of the JSON waiting to be parsed is full; `Retry-After` says when to retry'),
  500: errorBody.describe('Internal failure; the message never carries internals'),
  503: errorBody.describe('Shutting down, queue full (or this client\'s share of it), upload memory full, JSON parse queue full, or overloaded; `Retry-After` says when to retry'),
  504: errorBody.describe('The request did not finish within its deadline (REQUEST_TIMEOUT_MS or `X-Timeout-Ms`); its tasks were aborted')
}

/** The error shape of an error kept outside a response (a failed job's document). */
export function errorBodyOf (error: { statusCode: number, message: string }, requestId: string): ErrorBody {
  return { statusCode: error.statusCode, error: STATUS_CODES[error.statusCode] ?? 'Error', message: error.message, requestId }
}

const example = (statusCode: number, error: string, message: string): ErrorBody => ({ statusCode, error, message, requestId: EXAMPLE_REQUEST_ID })

/**
 * One example body per error status, for the OpenAPI document (src/http/openapi-conventions.ts): each
 * message is what the service really answers, made by the same error class.
 */
export const errorExamples: Record<number, ErrorBody> = {
  400: validationExample,
  401: example(401, 'Unauthorized', new UnauthorizedError().message),
  404: example(404, 'Not Found', new JobNotFoundError('f5fa3cb9-8768-48c5-ad11-27784c2536fd').message),
  406: example(406, 'Not Acceptable', new NotAcceptableError('application/json').message),
  409: example(409, 'Conflict', new JobActiveError('f5fa3cb9-8768-48c5-ad11-27784c2536fd', 'running', 'f5fa3cb9-8768-48c5-ad11-27784c2536fd').message),
  408: example(408, 'Request Timeout', new UploadTimeoutError(30_000).message),
  413: example(413, 'Payload Too Large', new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE().message),
  415: example(415, 'Unsupported Media Type', new UnsupportedMediaTypeError('text/plain', 'application/json').message),
  422: example(422, 'Unprocessable Entity', new NonFiniteValueError('Value at index 2', 'NaN').message),
  429: example(429, 'Too Many Requests', new RateLimitedError(100, '60 s', '12 s').message),
  500: example(500, 'Internal Server Error', 'Internal Server Error'),
  503: example(503, 'Service Unavailable', new QueueFullError().message),
  504: example(504, 'Gateway Timeout', new DeadlineExceededError(30_000).message)
}
