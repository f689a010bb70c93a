import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod'
import { MAX_ISSUES, PROBLEM_JSON, problemBody, problemOf, type ErrorBody, type ErrorIssue } from '../http/error-body.js'
import { hasPublicMessage, InternalError, MethodNotAllowedError, RouteNotFoundError } from '../errors.js'
import { RouteMethods } from '../http/route-methods.js'

/** Longest message, issue message or path an answer or a log line carries: a client's input can be any size. */
const MAX_TEXT = 300

function send (request: FastifyRequest, reply: FastifyReply, statusCode: number, code: string | undefined, detail: string, issues?: Pick<ErrorBody, 'issues' | 'moreIssues'>) {
  const problem = problemOf(statusCode, code)
  if (statusCode === 429 || statusCode === 503) {
    // Shutdown says nothing of when: the balancer retries on another instance, not here.
    if (problem.retry === 'elsewhere') reply.removeHeader('retry-after')
    else if (!reply.hasHeader('retry-after')) reply.header('retry-after', '1')
  }
  // Framework errors (a bad URL) skip the onRequest hook that sets it.
  if (!reply.hasHeader('x-request-id')) reply.header('x-request-id', request.id)
  const body = problemBody(problem, clip(detail), pathOf(request), String(request.id), issues)
  return reply.code(statusCode).type(`${PROBLEM_JSON}; charset=utf-8`).send(body)
}

function clip (text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`
}

function pathOf (request: FastifyRequest): string {
  return clip(request.url.split('?')[0]!)
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

/** Any error as a problem (application/problem+json): what the error handler and Fastify's framework errors answer. */
export function replyWithError (error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'request'
    const { issues, moreIssues } = boundedIssues(error.validation, where)
    const more = moreIssues === 0 ? '' : `; and ${moreIssues} more`
    request.log.info({ issues, moreIssues }, 'request failed validation')
    return send(request, reply, 400, 'FST_ERR_VALIDATION', `Invalid ${where}: ${issues.slice(0, 3).map((i) => `${i.path}: ${i.message}`).join('; ')}${issues.length > 3 ? `; and ${issues.length - 3 + moreIssues} more` : more}`,
      moreIssues === 0 ? { issues } : { issues, moreIssues })
  }

  const statusCode = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500
  const { retryAfterS } = error as { retryAfterS?: unknown }
  if (typeof retryAfterS === 'number') reply.header('retry-after', String(retryAfterS))
  if (hasPublicMessage(error)) {
    // Our own errors are expected conditions (overload, deadline, shutdown): no stack, no alarm.
    request.log[statusCode >= 500 ? 'warn' : 'info']({ code: error.code, statusCode }, clip(error.message))
    return send(request, reply, statusCode, error.code, error.message)
  }
  if (statusCode >= 500) {
    request.log.error({ err: error }, 'request failed')
    // A 5xx message could carry a stack, a path or a worker's internals: the log has it, the client does not.
    return send(request, reply, statusCode, statusCode === 500 ? InternalError.problem.code : undefined, new InternalError().message)
  }
  request.log.info({ err: { type: error.name, code: error.code, message: clip(error.message) } }, 'request rejected')
  return send(request, reply, statusCode, error.code, error.message)
}

/**
 * One error shape for every route: RFC 9457 problem details (src/http/error-body.ts). An unknown
 * path is 404; a known one asked with another method is 405 with `Allow`.
 */
async function errorHandler (app: FastifyInstance) {
  const routes = new RouteMethods()
  app.addHook('onRoute', (route) => { routes.add(route.method, route.url) })
  app.setErrorHandler(replyWithError)

  app.setNotFoundHandler((request, reply) => {
    const path = pathOf(request).slice(0, 200)
    const allowed = routes.allowed(request.url.split('?')[0]!)
    if (allowed.length === 0) return send(request, reply, 404, RouteNotFoundError.problem.code, new RouteNotFoundError(request.method, path).message)
    reply.header('allow', allowed.join(', '))
    return send(request, reply, 405, MethodNotAllowedError.problem.code, new MethodNotAllowedError(request.method, path, allowed.join(', ')).message)
  })
}

export default fp(errorHandler, { name: 'error-handler' })
