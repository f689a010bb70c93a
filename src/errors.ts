import createError from '@fastify/error'

/**
 * Every problem type's URI starts here: `<base><name>`, the name being the code's words in kebab case
 * (SVC_QUEUE_FULL is queue-full). A URI never changes meaning once published (docs/api.md#problem-types).
 */
export const PROBLEM_TYPE_BASE = 'https://compute-service.dev/problems/'

/** What RFC 9457 calls a problem type, with the status and code it is answered with. */
export interface ProblemType {
  code: string
  status: number
  type: string
  title: string
  /**
   * `elsewhere`: no Retry-After, since another instance should take the retry (shutdown); otherwise a
   * 429 or 503 carries the error's own `retryAfterS`, or 1 s.
   */
  retry?: 'elsewhere'
}

const problemTypes = new Map<string, ProblemType>()

function register (problem: ProblemType): ProblemType {
  const known = problemTypes.get(problem.code)
  // One code, one type: the same code thrown from two places must mean the same thing.
  if (known !== undefined && (known.type !== problem.type || known.status !== problem.status)) throw new Error(`problem ${problem.code} declared twice, differently`)
  problemTypes.set(problem.code, problem)
  return problem
}

const typeOf = (code: string) => PROBLEM_TYPE_BASE + code.replace(/^SVC_/, '').toLowerCase().replaceAll('_', '-')

/** An error class of the service's own: its status, a message written for clients, and its problem type's title. */
function serviceError (code: string, message: string, statusCode: number, title: string, options: Pick<ProblemType, 'retry'> = {}) {
  const problem = register({ code, status: statusCode, type: typeOf(code), title, ...options })
  return Object.assign(createError(code, message, statusCode), { problem })
}

/** A Fastify error a client can cause, under a problem type of ours: its code is Fastify's. */
function fastifyProblem (code: string, status: number, name: string, title: string) {
  register({ code, status, type: PROBLEM_TYPE_BASE + name, title })
}

/** The problem type of an error code, or undefined when it is not one a client may be told about. */
export function problemTypeOf (code: string | undefined): ProblemType | undefined {
  return code === undefined ? undefined : problemTypes.get(code)
}

/** Every problem type, in the order declared: the table docs/api.md documents (a test compares them). */
export function allProblemTypes (): ProblemType[] {
  return [...problemTypes.values()]
}

/** Our own errors' messages are shown even at 5xx; any other 5xx is reduced to a generic message. */
export function hasPublicMessage (error: { code?: string }): boolean {
  return error.code !== undefined && problemTypes.get(error.code)?.code.startsWith('SVC_') === true
}

/** An error that knows when its client should come back, in seconds: sent as Retry-After (src/plugins/error-handler.ts). */
export function withRetryAfter<E extends Error> (error: E, seconds: number): E & { retryAfterS: number } {
  return Object.assign(error, { retryAfterS: Math.max(1, Math.ceil(seconds)) })
}

// Answers the service gives without an error of its own being thrown.
export const RouteNotFoundError = serviceError('SVC_ROUTE_NOT_FOUND', 'Route %s %s not found', 404, 'No such route')
export const MethodNotAllowedError = serviceError('SVC_METHOD_NOT_ALLOWED', 'Method %s is not allowed on %s: use %s', 405, 'Method not allowed on this route')
export const InternalError = serviceError('SVC_INTERNAL', 'Internal Server Error', 500, 'Internal error')

fastifyProblem('FST_ERR_VALIDATION', 400, 'validation-failed', 'The request failed validation')
fastifyProblem('FST_ERR_CTP_INVALID_JSON_BODY', 400, 'malformed-json', 'The body is not valid JSON')
fastifyProblem('FST_ERR_CTP_EMPTY_JSON_BODY', 400, 'empty-json', 'A JSON body is empty')
fastifyProblem('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 'content-length-mismatch', 'The body\'s length differs from its Content-Length')
fastifyProblem('FST_ERR_CTP_BODY_TOO_LARGE', 413, 'body-too-large', 'The body is over its size limit')
// Fastify's reader reads a body sent where no route takes it before the 404 or 405, and refuses a
// malformed Content-Type: the same cause as SVC_UNSUPPORTED_MEDIA_TYPE, under its type.
fastifyProblem('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'unsupported-media-type', 'Unsupported media type')
fastifyProblem('FST_ERR_BAD_URL', 400, 'bad-url', 'The URL is not validly encoded')
fastifyProblem('FST_ERR_MAX_PARAM_LENGTH', 414, 'url-parameter-too-long', 'A URL parameter is too long')

export const ShuttingDownError = serviceError('SVC_SHUTTING_DOWN', 'The service is shutting down; retry on another instance', 503, 'The instance is shutting down', { retry: 'elsewhere' })
// One message for a missing and a wrong key: the reply must not help anyone guess.
export const UnauthorizedError = serviceError('SVC_UNAUTHORIZED', 'A valid API key is required: send "Authorization: Bearer <key>"', 401, 'A valid API key is required')
export const RateLimitedError = serviceError('SVC_RATE_LIMITED', 'Rate limit exceeded: at most %s requests per %s; retry in %s', 429, 'Over the rate limit')
export const QueueFullError = serviceError('SVC_QUEUE_FULL', 'The service is at capacity; retry shortly', 503, 'The work queue is full')
export const NoWorkersError = serviceError('SVC_NO_WORKERS', 'No worker thread is running; retry on another instance', 503, 'No worker thread is running')
export const DeadlineExceededError = serviceError('SVC_DEADLINE_EXCEEDED', 'The request did not finish within its deadline of %s ms', 504, 'The request\'s deadline passed')
export const ClientDisconnectedError = serviceError('SVC_CLIENT_DISCONNECTED', 'The client closed the connection before the answer', 499, 'The client disconnected')
export const InvalidTimeoutError = serviceError('SVC_INVALID_TIMEOUT', 'X-Timeout-Ms must be a whole number of milliseconds from 1 to %s', 400, 'X-Timeout-Ms is invalid')
export const OverloadedError = serviceError('SVC_OVERLOADED', 'The service is overloaded; retry shortly', 503, 'The event loop or heap is overloaded')
export const UnsupportedMediaTypeError = serviceError('SVC_UNSUPPORTED_MEDIA_TYPE', 'Content-Type %s is not accepted: send %s', 415, 'Unsupported media type')
export const NonFiniteValueError = serviceError('SVC_NON_FINITE_VALUE', '%s is %s: only finite numbers are accepted', 422, 'A value is not finite')
export const Float64OverflowError = serviceError('SVC_FLOAT64_OVERFLOW', 'The %s overflows float64: %s', 422, 'The result overflows float64')
export const AmbiguousContentTypeError = serviceError('SVC_AMBIGUOUS_CONTENT_TYPE', 'Send one Content-Type header, not %s', 400, 'More than one Content-Type')
export const BodyTooLargeError = serviceError('SVC_BODY_TOO_LARGE', 'The request body is over the limit of %s bytes', 413, 'The body is over its size limit')
export const JsonTooLargeError = serviceError('SVC_JSON_TOO_LARGE', 'A JSON body may be at most %s bytes: send larger inputs as application/octet-stream (raw little-endian float64 values, up to %s bytes)', 413, 'The JSON body is over its size limit')
export const JsonTooDeepError = serviceError('SVC_JSON_TOO_DEEP', 'JSON nested deeper than %s levels is not accepted', 400, 'The JSON is nested too deep')
export const UploadTimeoutError = serviceError('SVC_UPLOAD_TIMEOUT', 'The request body did not arrive within the deadline of %s ms', 408, 'The body did not arrive in time')
export const UploadTooSlowError = serviceError('SVC_UPLOAD_TOO_SLOW', 'The request body arrived slower than %s bytes per second', 408, 'The body arrived too slowly')
export const UploadMemoryFullError = serviceError('SVC_UPLOAD_MEMORY_FULL', 'The service has no room for this upload right now; retry shortly', 503, 'The upload memory budget is full')
export const BinaryLengthError = serviceError('SVC_BINARY_LENGTH', 'An application/octet-stream body must be %s, but %s bytes is not a multiple of %s', 400, 'The binary body is not whole values')

export const JobNotFoundError = serviceError('SVC_JOB_NOT_FOUND', 'Job %s not found: unknown, expired or deleted', 404, 'No such job')
export const TooManyJobsError = serviceError('SVC_TOO_MANY_JOBS', 'At most %s jobs may be queued or running at once; retry when one has finished', 503, 'Too many jobs are active')
export const JobsUnavailableError = serviceError('SVC_JOBS_UNAVAILABLE', 'The job store (Redis) is unreachable; retry shortly', 503, 'The job store is unreachable')
export const NotAcceptableError = serviceError('SVC_NOT_ACCEPTABLE', 'This endpoint answers text/event-stream only, which Accept: %s excludes', 406, 'Only text/event-stream is answered')
// Messages of errors that end up in a job document.
export const JobFailedError = serviceError('SVC_JOB_FAILED', 'The job failed: %s', 500, 'The job failed')
export const JobInterruptedError = serviceError('SVC_JOB_INTERRUPTED', 'The job was cancelled because the service shut down; embedded jobs do not survive a restart', 503, 'The job was interrupted by a shutdown')
// issue 17: streams
export const ClientEventStreamsError = serviceError('SVC_CLIENT_EVENT_STREAMS', 'This client already has %s event streams open, its share; close one, or retry later', 429, 'This client has its share of event streams open')
export const TooManyEventStreamsError = serviceError('SVC_TOO_MANY_EVENT_STREAMS', 'The service has %s event streams open, its limit; retry shortly, or on another instance', 503, 'Too many event streams are open')

// issue 17: connections
export const TooManyConnectionsError = serviceError('SVC_TOO_MANY_CONNECTIONS', 'At most %s connections may be open from one address; reuse the ones you have, or retry when one has closed', 429, 'Too many connections from this address')
export const ConnectionsFullError = serviceError('SVC_CONNECTIONS_FULL', 'The service has no room for another connection right now; retry shortly', 503, 'The instance has no room for another connection')

// issue 17: uploads
export const UploadShareFullError = serviceError('SVC_UPLOAD_SHARE_FULL', 'This client already holds its share of upload memory (%s bytes): retry once its other uploads have finished', 429, 'This client holds its share of upload memory')
export const JsonParseShareFullError = serviceError('SVC_JSON_PARSE_SHARE_FULL', 'This client already has %s bytes of JSON waiting to be parsed: retry once they are parsed, or send application/octet-stream', 429, 'This client has its share of JSON waiting to be parsed')
export const JsonParseQueueFullError = serviceError('SVC_JSON_PARSE_QUEUE_FULL', 'Too much JSON is waiting to be parsed; retry shortly, or send application/octet-stream', 503, 'Too much JSON is waiting to be parsed')

// issue 17: jobs
export const TooManyClientJobsError = serviceError('SVC_TOO_MANY_CLIENT_JOBS', 'This client may have at most %s jobs queued or running at once; retry when one has finished', 429, 'This client has its share of active jobs')

// issue 17: redis
// JobsUnavailableError above stays the "unreachable" one (connection refused, closed, not ready).
export const JobStoreFullError = serviceError('SVC_JOB_STORE_FULL', 'The job store (Redis) is full: it refuses new data until memory is freed; retry later', 503, 'The job store is full')
export const JobStoreSlowError = serviceError('SVC_JOB_STORE_SLOW', 'The job store (Redis) did not answer within %s ms; retry shortly', 503, 'The job store did not answer in time')
export const JobStoreFullFailureError = serviceError('SVC_JOB_STORE_FULL', 'The job failed: the job store (Redis) was full and could not record its progress', 503, 'The job store is full')

// issue 19: cancel apart from delete
export const JobActiveError = serviceError('SVC_JOB_ACTIVE', 'Job %s is still %s: DELETE removes finished jobs only; cancel it first with POST /v1/jobs/%s/cancel', 409, 'The job is still active')

// issue 19: listing jobs
export const InvalidPageTokenError = serviceError('SVC_INVALID_PAGE_TOKEN', 'pageToken is not one this list answered with for the same status filter: start again without it', 400, 'The page token is not valid')

// issue 19: Idempotency-Key
export const InvalidIdempotencyKeyError = serviceError('SVC_INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be one string of 1 to %s visible ASCII characters, quoted ("...") or bare', 400, 'The Idempotency-Key is not valid')
export const IdempotencyKeyReusedError = serviceError('SVC_IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request: use a new key for a new job', 422, 'The Idempotency-Key was used for another request')
export const IdempotencyKeyInUseError = serviceError('SVC_IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry shortly', 409, 'A request with this Idempotency-Key is in progress')

// issue 19: binary job inputs
export const BinaryJobTaskError = serviceError('SVC_BINARY_JOB_TASK', 'POST /v1/jobs: %s', 400, 'The binary job request is not valid')
