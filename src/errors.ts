import createError from '@fastify/error'

const publicCodes = new Set<string>()

/** An error class of the service's own, with its status code and a message written for clients. */
function serviceError (code: string, message: string, statusCode: number) {
  publicCodes.add(code)
  return createError(code, message, statusCode)
}

export const ShuttingDownError = serviceError('SVC_SHUTTING_DOWN', 'The service is shutting down; retry on another instance', 503)
// One message for a missing and a wrong key: the reply must not help anyone guess.
export const UnauthorizedError = serviceError('SVC_UNAUTHORIZED', 'A valid API key is required: send "Authorization: Bearer <key>"', 401)
export const RateLimitedError = serviceError('SVC_RATE_LIMITED', 'Rate limit exceeded: at most %s requests per %s; retry in %s', 429)
export const QueueFullError = serviceError('SVC_QUEUE_FULL', 'The service is at capacity; retry shortly', 503)
export const NoWorkersError = serviceError('SVC_NO_WORKERS', 'No worker thread is running; retry on another instance', 503)
export const DeadlineExceededError = serviceError('SVC_DEADLINE_EXCEEDED', 'The request did not finish within its deadline of %s ms', 504)
export const ClientDisconnectedError = serviceError('SVC_CLIENT_DISCONNECTED', 'The client closed the connection before the answer', 499)
export const InvalidTimeoutError = serviceError('SVC_INVALID_TIMEOUT', 'X-Timeout-Ms must be a whole number of milliseconds from 1 to %s', 400)
export const OverloadedError = serviceError('SVC_OVERLOADED', 'The service is overloaded; retry shortly', 503)
export const UnsupportedMediaTypeError = serviceError('SVC_UNSUPPORTED_MEDIA_TYPE', 'Content-Type %s is not accepted: send %s', 415)
export const NonFiniteValueError = serviceError('SVC_NON_FINITE_VALUE', '%s is %s: only finite numbers are accepted', 422)
export const Float64OverflowError = serviceError('SVC_FLOAT64_OVERFLOW', 'The %s overflows float64: %s', 422)
export const AmbiguousContentTypeError = serviceError('SVC_AMBIGUOUS_CONTENT_TYPE', 'Send one Content-Type header, not %s', 400)
export const BodyTooLargeError = serviceError('SVC_BODY_TOO_LARGE', 'The request body is over the limit of %s bytes', 413)
export const JsonTooLargeError = serviceError('SVC_JSON_TOO_LARGE', 'A JSON body may be at most %s bytes: send larger inputs as application/octet-stream (raw little-endian float64 values, up to %s bytes)', 413)
export const JsonTooDeepError = serviceError('SVC_JSON_TOO_DEEP', 'JSON nested deeper than %s levels is not accepted', 400)
export const UploadTimeoutError = serviceError('SVC_UPLOAD_TIMEOUT', 'The request body did not arrive within the deadline of %s ms', 408)
export const UploadTooSlowError = serviceError('SVC_UPLOAD_TOO_SLOW', 'The request body arrived slower than %s bytes per second', 408)
export const UploadMemoryFullError = serviceError('SVC_UPLOAD_MEMORY_FULL', 'The service has no room for this upload right now; retry shortly', 503)
export const BinaryLengthError = serviceError('SVC_BINARY_LENGTH', 'An application/octet-stream body must be %s, but %s bytes is not a multiple of %s', 400)

/** Our own errors' messages are shown even at 5xx; any other 5xx is reduced to a generic message. */
export function hasPublicMessage (error: { code?: string }): boolean {
  return error.code !== undefined && publicCodes.has(error.code)
}

export const JobNotFoundError = serviceError('SVC_JOB_NOT_FOUND', 'Job %s not found: unknown, expired or deleted', 404)
export const TooManyJobsError = serviceError('SVC_TOO_MANY_JOBS', 'At most %s jobs may be queued or running at once; retry when one has finished', 503)
export const JobsUnavailableError = serviceError('SVC_JOBS_UNAVAILABLE', 'The job store (Redis) is unreachable; retry shortly', 503)
export const NotAcceptableError = serviceError('SVC_NOT_ACCEPTABLE', 'This endpoint answers text/event-stream only, which Accept: %s excludes', 406)
// Messages of errors that end up in a job document.
export const JobFailedError = serviceError('SVC_JOB_FAILED', 'The job failed: %s', 500)
export const JobInterruptedError = serviceError('SVC_JOB_INTERRUPTED', 'The job was cancelled because the service shut down; embedded jobs do not survive a restart', 503)
// issue 17: streams
export const ClientEventStreamsError = serviceError('SVC_CLIENT_EVENT_STREAMS', 'This client already has %s event streams open, its share; close one, or retry later', 429)
export const TooManyEventStreamsError = serviceError('SVC_TOO_MANY_EVENT_STREAMS', 'The service has %s event streams open, its limit; retry shortly, or on another instance', 503)

// issue 17: connections
export const TooManyConnectionsError = serviceError('SVC_TOO_MANY_CONNECTIONS', 'At most %s connections may be open from one address; reuse the ones you have, or retry when one has closed', 429)
export const ConnectionsFullError = serviceError('SVC_CONNECTIONS_FULL', 'The service has no room for another connection right now; retry shortly', 503)

// issue 17: uploads
export const UploadShareFullError = serviceError('SVC_UPLOAD_SHARE_FULL', 'This client already holds its share of upload memory (%s bytes): retry once its other uploads have finished', 429)
export const JsonParseShareFullError = serviceError('SVC_JSON_PARSE_SHARE_FULL', 'This client already has %s bytes of JSON waiting to be parsed: retry once they are parsed, or send application/octet-stream', 429)
export const JsonParseQueueFullError = serviceError('SVC_JSON_PARSE_QUEUE_FULL', 'Too much JSON is waiting to be parsed; retry shortly, or send application/octet-stream', 503)

// issue 17: jobs
export const TooManyClientJobsError = serviceError('SVC_TOO_MANY_CLIENT_JOBS', 'This client may have at most %s jobs queued or running at once; retry when one has finished', 429)

// issue 17: redis
// JobsUnavailableError above stays the "unreachable" one (connection refused, closed, not ready).
export const JobStoreFullError = serviceError('SVC_JOB_STORE_FULL', 'The job store (Redis) is full: it refuses new data until memory is freed; retry later', 503)
export const JobStoreSlowError = serviceError('SVC_JOB_STORE_SLOW', 'The job store (Redis) did not answer within %s ms; retry shortly', 503)
export const JobStoreFullFailureError = serviceError('SVC_JOB_STORE_FULL', 'The job failed: the job store (Redis) was full and could not record its progress', 503)

// issue 19: cancel apart from delete
export const JobActiveError = serviceError('SVC_JOB_ACTIVE', 'Job %s is still %s: DELETE removes finished jobs only; cancel it first with POST /v1/jobs/%s/cancel', 409)

// issue 19: listing jobs
export const InvalidPageTokenError = serviceError('SVC_INVALID_PAGE_TOKEN', 'pageToken is not one this list answered with for the same status filter: start again without it', 400)

// issue 19: Idempotency-Key
export const InvalidIdempotencyKeyError = serviceError('SVC_INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be one string of 1 to %s visible ASCII characters, quoted ("...") or bare', 400)
export const IdempotencyKeyReusedError = serviceError('SVC_IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request: use a new key for a new job', 422)
export const IdempotencyKeyInUseError = serviceError('SVC_IDEMPOTENCY_KEY_IN_USE', 'A request with this Idempotency-Key is still being processed; retry shortly', 409)

// issue 19: binary job inputs
export const BinaryJobTaskError = serviceError('SVC_BINARY_JOB_TASK', 'POST /v1/jobs: %s', 400)
