import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'

/** pino JSON for machines; pino-pretty only when a person is watching a terminal. */
export function loggerOptions (level: Config['LOG_LEVEL'], pretty: boolean): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}
