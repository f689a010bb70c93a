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

/** Our own errors' messages are shown even at 5xx; any other 5xx is reduced to a generic message. */
export function hasPublicMessage (error: { code?: string }): boolean {
  return error.code !== undefined && publicCodes.has(error.code)
}
