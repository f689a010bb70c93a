import { errorCodes } from 'fastify'
import { z } from 'zod'
import {
  DeadlineExceededError, NonFiniteValueError, QueueFullError, RateLimitedError, UnauthorizedError, UnsupportedMediaTypeError
} from './errors.js'

const issue = z.object({ path: z.string(), message: z.string() })

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
  issues: z.array(issue).optional()
}).meta({ id: 'ErrorBody', examples: [validationExample] })

export type ErrorBody = z.output<typeof errorBody>
export type ErrorIssue = z.output<typeof issue>

/** Error statuses every compute route can answer with; the compute scope adds them to each route's schema. */
export const computeErrorResponses = {
  400: errorBody.describe('Malformed body or one that fails validation; `issues` names each field'),
  401: errorBody.describe('Missing or wrong API key (only when the service runs with API_KEYS)'),
  413: errorBody.describe('Body over the size limit'),
  415: errorBody.describe('Unsupported content type; the message names the accepted ones'),
  429: errorBody.describe('Rate limit exceeded (only when the service runs with RATE_LIMIT_MAX); `Retry-After` says when to retry'),
  500: errorBody.describe('Internal failure; the message never carries internals'),
  503: errorBody.describe('Shutting down, queue full or overloaded; `Retry-After` says when to retry'),
  504: errorBody.describe('The request did not finish within its deadline (REQUEST_TIMEOUT_MS or `X-Timeout-Ms`); its tasks were aborted')
}

const example = (statusCode: number, error: string, message: string): ErrorBody => ({ statusCode, error, message, requestId: EXAMPLE_REQUEST_ID })

/**
 * One example body per error status, for the OpenAPI document (src/openapi-conventions.ts): each
 * message is what the service really answers, made by the same error class.
 */
export const errorExamples: Record<number, ErrorBody> = {
  400: validationExample,
  401: example(401, 'Unauthorized', new UnauthorizedError().message),
  404: example(404, 'Not Found', 'Route GET /v1/nothing not found'),
  413: example(413, 'Payload Too Large', new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE().message),
  415: example(415, 'Unsupported Media Type', new UnsupportedMediaTypeError('text/plain', 'application/json').message),
  422: example(422, 'Unprocessable Entity', new NonFiniteValueError('Value at index 2', 'NaN').message),
  429: example(429, 'Too Many Requests', new RateLimitedError(100, '60 s', '12 s').message),
  500: example(500, 'Internal Server Error', 'Internal Server Error'),
  503: example(503, 'Service Unavailable', new QueueFullError().message),
  504: example(504, 'Gateway Timeout', new DeadlineExceededError(30_000).message)
}
