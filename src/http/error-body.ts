import { STATUS_CODES } from 'node:http'
import { errorCodes } from 'fastify'
import { z } from 'zod'
import {
  AmbiguousContentTypeError, BodyTooLargeError, DeadlineExceededError, InternalError, InvalidTimeoutError, JobActiveError, JobNotFoundError, JsonParseQueueFullError,
  JsonParseShareFullError, JsonTooDeepError, JsonTooLargeError, NonFiniteValueError, NotAcceptableError, OverloadedError, problemTypeOf,
  QueueFullError, RateLimitedError, ShuttingDownError, UnauthorizedError, UnsupportedMediaTypeError, UploadMemoryFullError,
  UploadShareFullError, UploadTimeoutError, UploadTooSlowError, type ProblemType
} from '../errors.js'

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_JSON = 'application/problem+json'

/** The date until which the members RFC 9457 replaced are still sent (docs/api.md#errors). */
export const LEGACY_MEMBERS_UNTIL = '2027-06-30'

const issue = z.object({ path: z.string(), message: z.string() })

/** Most validation issues an error answer lists; the rest are counted in `moreIssues`. */
export const MAX_ISSUES = 10

const EXAMPLE_REQUEST_ID = '297b52fc-c05f-45b1-930a-35a0acc356bc'
const VALIDATION_DETAIL = 'Invalid body: body.end: end must be greater than or equal to start'
/** Written out, not made by problemBody: the schema's own example cannot depend on its type. */
const validationExample = () => ({
  type: 'https://compute-service.dev/problems/validation-failed',
  title: 'The request failed validation',
  status: 400,
  detail: VALIDATION_DETAIL,
  instance: '/v1/sum-of-squares',
  code: 'FST_ERR_VALIDATION',
  requestId: EXAMPLE_REQUEST_ID,
  issues: [{ path: 'body.end', message: 'end must be greater than or equal to start' }],
  statusCode: 400,
  error: 'Bad Request',
  message: VALIDATION_DETAIL
})

const legacy = (replacement: string) => `Deprecated: the same as \`${replacement}\`; sent until ${LEGACY_MEMBERS_UNTIL}`

/** The one error shape every route answers with: RFC 9457 problem details, with `code`, `requestId` and `issues` as extension members. */
export const errorBody = z.object({
  type: z.string().describe('The cause, as a URI that never changes meaning: https://compute-service.dev/problems/<name> (docs/api.md lists every one), or about:blank for a status with no cause of its own'),
  title: z.string().describe('A short summary of the cause, the same for every occurrence'),
  status: z.int().describe('The HTTP status code'),
  detail: z.string().describe('What happened this time, for a person to read'),
  instance: z.string().optional().describe('The path of the request that failed; absent where none applies (a connection refused before its request was read, a job\'s stored error)'),
  code: z.string().describe('The cause as a code to branch on: the service\'s own `SVC_*`, or Fastify\'s `FST_*`'),
  requestId: z.string().describe('The request\'s id, as in X-Request-Id and every log line of the request'),
  issues: z.array(issue).max(MAX_ISSUES).optional().describe(`The first ${MAX_ISSUES} validation issues, each naming the field`),
  moreIssues: z.int().optional().describe('How many further issues there were, beyond those listed'),
  statusCode: z.int().meta({ deprecated: true }).describe(legacy('status')),
  error: z.string().meta({ deprecated: true }).describe(`Deprecated: the status's reason phrase; sent until ${LEGACY_MEMBERS_UNTIL}`),
  message: z.string().meta({ deprecated: true }).describe(legacy('detail'))
}).meta({ id: 'ErrorBody', examples: [validationExample()] })

export type ErrorBody = z.output<typeof errorBody>
export type ErrorIssue = z.output<typeof issue>

/** Where no problem type of ours applies: RFC 9457's about:blank, titled by the status. */
function blankProblem (status: number, code: string): ProblemType {
  return { code, status, type: 'about:blank', title: STATUS_CODES[status] ?? 'Error' }
}

/** The problem an error code stands for at this status; an unknown code is about:blank, and keeps its own code when it is Fastify's. */
export function problemOf (status: number, code: string | undefined): ProblemType {
  const known = problemTypeOf(code)
  if (known !== undefined && known.status === status) return known
  return blankProblem(status, code !== undefined && /^FST_\w+$/.test(code) ? code : `HTTP_${status}`)
}

/** The body of a problem: the new members and, until LEGACY_MEMBERS_UNTIL, the old ones. */
export function problemBody (problem: ProblemType, detail: string, instance: string | undefined, requestId: string, issues?: Pick<ErrorBody, 'issues' | 'moreIssues'>): ErrorBody {
  return {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail,
    ...(instance === undefined ? {} : { instance }),
    code: problem.code,
    requestId,
    ...issues,
    statusCode: problem.status,
    error: STATUS_CODES[problem.status] ?? 'Error',
    message: detail
  }
}

/** The error shape of an error answered outside the error handler (a refused connection) or kept in a failed job's document. */
export function errorBodyOf (error: { statusCode: number, message: string, code?: string }, requestId: string): ErrorBody {
  return problemBody(problemOf(error.statusCode, error.code), error.message, undefined, requestId)
}

/** An error body as stored before problem details, in a job Redis still keeps across a deploy. */
interface LegacyErrorBody { statusCode: number, error: string, message: string, requestId: string }

/**
 * A stored error body in today's shape: one written before problem details gets the new members
 * (about:blank, `HTTP_<status>`: it kept no code), so the job document still serializes.
 */
export function storedErrorBody (stored: ErrorBody | LegacyErrorBody): ErrorBody {
  if ('type' in stored) return stored
  return problemBody(problemOf(stored.statusCode, undefined), stored.message, undefined, stored.requestId)
}

/** Codes an error response of an operation may carry, by its zod schema: the OpenAPI document lists them (src/plugins/openapi.ts). */
const documentedCodes = new WeakMap<object, readonly string[]>()

type Coded = { problem: ProblemType } | string

/** An error response: why it is answered, and every code it may carry (error classes, or Fastify's codes). */
export function problemResponse (why: string, ...causes: Coded[]) {
  const schema = errorBody.describe(why)
  documentedCodes.set(schema, causes.map((cause) => typeof cause === 'string' ? cause : cause.problem.code))
  return schema
}

/** The codes problemResponse documented for this response schema, if it was made by it. */
export function codesOf (schema: unknown): readonly string[] | undefined {
  return typeof schema === 'object' && schema !== null ? documentedCodes.get(schema) : undefined
}

/** Error statuses every compute route can answer with; the compute scope adds them to each route's schema. */
export const computeErrorResponses = {
  400: problemResponse('Malformed body or one that fails validation; `issues` names each field (the first 10; `moreIssues` counts the rest); a bad X-Timeout-Ms; two Content-Type headers',
    'FST_ERR_VALIDATION', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', JsonTooDeepError, InvalidTimeoutError, AmbiguousContentTypeError),
  401: problemResponse('Missing or wrong API key (only when the service runs with API_KEYS)', UnauthorizedError),
  408: problemResponse('The body did not arrive within the deadline, or arrived slower than the minimum rate; the connection is closed', UploadTimeoutError, UploadTooSlowError),
  413: problemResponse('Body over the size limit (a smaller one for JSON than for binary bodies)', BodyTooLargeError, JsonTooLargeError, 'FST_ERR_CTP_BODY_TOO_LARGE'),
  415: problemResponse('Unsupported content type; the detail names the accepted ones', UnsupportedMediaTypeError),
  429: problemResponse('Rate limit exceeded (only when the service runs with RATE_LIMIT_MAX), or this client\'s share of upload memory or of the JSON waiting to be parsed is full; `Retry-After` says when to retry',
    RateLimitedError, UploadShareFullError, JsonParseShareFullError),
  500: problemResponse('Internal failure; the detail never carries internals', InternalError),
  503: problemResponse('Shutting down (no Retry-After: retry on another instance), queue full (or this client\'s share of it), upload memory full, JSON parse queue full, or overloaded; `Retry-After` says when to retry',
    ShuttingDownError, QueueFullError, UploadMemoryFullError, JsonParseQueueFullError, OverloadedError),
  504: problemResponse('The request did not finish within its deadline (REQUEST_TIMEOUT_MS or `X-Timeout-Ms`); its tasks were aborted', DeadlineExceededError)
}

/**
 * A route's own response for a status every compute route answers: the compute scope's causes and
 * its own, so the route's `code` enum still lists every code the scope's guards answer with.
 */
export function computeErrorResponse (status: keyof typeof computeErrorResponses, why: string, ...causes: Coded[]) {
  const shared = computeErrorResponses[status]
  return problemResponse(`${shared.description!}; ${why}`, ...codesOf(shared)!, ...causes)
}

const example = (error: { statusCode?: number, code: string, message: string }): ErrorBody =>
  problemBody(problemOf(error.statusCode ?? 500, error.code), error.message, '/v1/sum-of-squares', EXAMPLE_REQUEST_ID)

/**
 * One example body per error status, for the OpenAPI document (src/http/openapi-conventions.ts): each
 * detail is what the service really answers, made by the same error class.
 */
export const errorExamples: Record<number, ErrorBody> = {
  400: validationExample(),
  401: example(new UnauthorizedError()),
  404: { ...example(new JobNotFoundError('f5fa3cb9-8768-48c5-ad11-27784c2536fd')), instance: '/v1/jobs/f5fa3cb9-8768-48c5-ad11-27784c2536fd' },
  406: example(new NotAcceptableError('application/json')),
  409: { ...example(new JobActiveError('f5fa3cb9-8768-48c5-ad11-27784c2536fd', 'running', 'f5fa3cb9-8768-48c5-ad11-27784c2536fd')), instance: '/v1/jobs/f5fa3cb9-8768-48c5-ad11-27784c2536fd' },
  408: example(new UploadTimeoutError(30_000)),
  413: example(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE()),
  415: example(new UnsupportedMediaTypeError('text/plain', 'application/json')),
  422: example(new NonFiniteValueError('Value at index 2', 'NaN')),
  429: example(new RateLimitedError(100, '60 s', '12 s')),
  500: example(new InternalError()),
  503: example(new QueueFullError()),
  504: example(new DeadlineExceededError(30_000))
}
