import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { problemTypeOf } from '../../src/errors.js'

/**
 * Makes every error answer a test gets through `app.inject` prove its shape (issue 20): status 400
 * or more is application/problem+json with a `code` of the error table (src/errors.ts), not the
 * `HTTP_<status>` of a cause nobody named, or the test fails there, whatever it asserts
 * itself. Only the promise form is checked; a streamed answer (`payloadAsStream`) and HEAD have no
 * body to read. Answers on real sockets are the business of the tests that open them.
 */
export function checkErrorAnswers (app: FastifyInstance): void {
  const inject = app.inject.bind(app) as (options?: InjectOptions | string, callback?: unknown) => unknown
  app.inject = ((options?: InjectOptions | string, callback?: unknown) => {
    if (options === undefined || callback !== undefined) return inject(options, callback)
    return (inject(options) as Promise<LightMyRequestResponse>).then((response) => {
      if (typeof options !== 'object' || options.payloadAsStream !== true) assertProblem(response)
      return response
    })
  }) as FastifyInstance['inject']
}

function assertProblem (response: LightMyRequestResponse): void {
  if (response.statusCode < 400) return
  const where = `${response.raw.req.method ?? ''} ${response.raw.req.url ?? ''} answered ${response.statusCode}`
  const type = String(response.headers['content-type'])
  if (!type.startsWith('application/problem+json')) throw new Error(`${where} as ${type}, not application/problem+json`)
  if (response.raw.req.method === 'HEAD') return
  const code = (JSON.parse(response.body) as { code?: unknown }).code
  if (typeof code !== 'string' || problemTypeOf(code) === undefined) throw new Error(`${where} without a documented code: ${response.body.slice(0, 200)}`)
}
