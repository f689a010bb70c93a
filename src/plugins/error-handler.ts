import { STATUS_CODES } from 'node:http'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { MAX_ISSUES, type ErrorBody, type ErrorIssue } from '../http/error-body.js'
import { hasPublicMessage } from '../errors.js'

/** Longest message, issue message or path an answer or a log line carries: a client's input can be any size. */
const MAX_TEXT = 300

function send (request: FastifyRequest, reply: FastifyReply, statusCode: number, message: string, issues?: Pick<ErrorBody, 'issues' | 'moreIssues'>) {
  const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message: clip(message), requestId: String(request.id), ...issues }
  return reply.code(statusCode).type('application/json; charset=utf-8').send(body)
}

function clip (text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`
}

interface ValidationItem {
  instancePath: string
  message?: string
  /** fastify-type-provider-zod puts the zod issue's own fields here, its `params` among them. */
  params?: { params?: { omitted?: unknown } }
}

/**
 * The first MAX_ISSUES issues, and a count of the rest, whatever their number: the answer and the
 * log line stay a few KiB. An issue that only counts others (`params: { omitted }`, see
 * src/uploads/number-array.ts) adds its count.
 */
function boundedIssues (validation: readonly ValidationItem[], where: string): { issues: ErrorIssue[], moreIssues: number } {
  const issues: ErrorIssue[] = []
  let moreIssues = 0
  for (const item of validation) {
    const omitted = item.params?.params?.omitted
    if (typeof omitted === 'number') moreIssues += omitted
    else if (issues.length === MAX_ISSUES) moreIssues++
    else issues.push({ path: clip([where, ...item.instancePath.split('/').filter(Boolean)].join('.')), message: clip(item.message ?? 'invalid') })
  }
  return { issues, moreIssues }
}

/** One error shape for every route: `{ statusCode, error, message, requestId, issues? }`. */
async function errorHandler (app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'request'
      const { issues, moreIssues } = boundedIssues(error.validation, where)
      const more = moreIssues === 0 ? '' : `; and ${moreIssues} more`
      request.log.info({ issues, moreIssues }, 'request failed validation')
      return send(request, reply, 400, `Invalid ${where}: ${issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; ')}${issues.length > 3 ? `; and ${issues.length - 3 + moreIssues} more` : more}`,
        moreIssues === 0 ? { issues } : { issues, moreIssues })
    }

    const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
    // Every 503 is temporary here (draining, queue full, overload): tell clients when to come back.
    if (statusCode === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', '1')
    if (hasPublicMessage(error)) {
      // Our own errors are expected conditions (overload, deadline, shutdown): no stack, no alarm.
      request.log[statusCode >= 500 ? 'warn' : 'info']({ code: error.code, statusCode }, clip(error.message))
      return send(request, reply, statusCode, error.message)
    }
    if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed')
      // A 5xx message could carry a stack, a path or a worker's internals: the log has it, the client does not.
      return send(request, reply, statusCode, 'Internal Server Error')
    }
    request.log.info({ err: { type: error.name, code: error.code, message: clip(error.message) } }, 'request rejected')
    return send(request, reply, statusCode, error.message)
  })

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!.slice(0, 200)
    return send(request, reply, 404, `Route ${request.method} ${path} not found`)
  })
}

export default fp(errorHandler, { name: 'error-handler' })
