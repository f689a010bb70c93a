import createError from '@fastify/error'

const publicCodes = new Set<string>()

/** An error class of the service's own, with its status code and a message written for clients. */
function serviceError (code: string, message: string, statusCode: number) {
  publicCodes.add(code)
  return createError(code, message, statusCode)
}

export const ShuttingDownError = serviceError('SVC_SHUTTING_DOWN', 'The service is shutting down; retry on another instance', 503)

/** Our own errors' messages are shown even at 5xx; any other 5xx is reduced to a generic message. */
export function hasPublicMessage (error: { code?: string }): boolean {
  return error.code !== undefined && publicCodes.has(error.code)
}
