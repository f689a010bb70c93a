import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import type { ErrorBody } from '../error-body.js'
import { hasPublicMessage } from '../errors.js'

function send (request: FastifyRequest, reply: FastifyReply, statusCode: number, message: string, issues?: ErrorBody['issues']) {
  const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, requestId: String(request.id) }
  if (issues !== undefined) body.issues = issues
  return reply.code(statusCode).type('application/json; charset=utf-8').send(body)
}

/** One error shape for every route: `{ statusCode, error, message, requestId, issues? }`. */
async function errorHandler (app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request'
      const issues = error.validation.map((issue) => ({
        path: [where, ...issue.instancePath.split('/').filter(Boolean)].join('.'),
        message: issue.message ?? 'invalid'
      }))
      request.log.info({ issues }, 'request failed validation')
      return send(request, reply, 400, `Invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues)
    }

    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    // Every 503 is temporary here (draining, queue full, overload): tell clients when to come back.
    if (statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
    if (hasPublicMessage(error)) {
      // Our own errors are expected conditions (overload, deadline, shutdown): no stack, no alarm.
      request.log[statusCode >= 500 ? 'warn' : 'info']({ code: error.code, statusCode }, error.message)
      return send(request, reply, statusCode, error.message)
    }
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
      // A 5xx message could carry a stack, a path or a worker's internals: the log has it, the client does not.
      return send(request, reply, statusCode, 'Internal Server Error')
    }
    request.log.info({ err: error }, 'request rejected')
    return send(request, reply, statusCode, error.message)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200)
    return send(request, reply, 404, `Route ${request.method} ${path} not found`)
  })
}

export default fp(errorHandler, { name: 'error-handler' })
