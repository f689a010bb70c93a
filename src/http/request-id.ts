import { randomUUID } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

const CLIENT_ID = /^[\w.:-]{1,128}$/

/**
 * Keeps a caller's `X-Request-Id` so one id follows a request across services, but only when it is
 * short and plain: the id is written into every log line and error body.
 */
export function requestId (request: IncomingMessage): string {
  const given = request.headers['x-request-id']
  return typeof given === 'string' && CLIENT_ID.test(given) ? given : randomUUID()
}
