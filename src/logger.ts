import type { FastifyServerOptions } from 'fastify'
import { pino } from 'pino'
import type { Config } from './config.js'

export type LogDestination = ReturnType<typeof pino.destination>

/** pino JSON for machines; pino-pretty only when a person is watching a terminal. */
export function loggerOptions (level: Config['LOG_LEVEL'], pretty: boolean, stream?: LogDestination): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : stream === undefined ? {} : { stream })
  }
}

/**
 * The process's log destination: stdout through pino's asynchronous writer, so a log line never
 * blocks the event loop on a slow pipe. Lines wait in memory until written: call `flushLog` before
 * the process exits (pino also flushes it synchronously on 'exit', as a backstop).
 */
export function asyncStdout (): LogDestination {
  return pino.destination({ dest: 1, sync: false })
}

/** Resolves once every line written so far has reached the destination. */
export function flushLog (destination: LogDestination): Promise<void> {
  return new Promise((resolve) => {
    destination.flush((error) => {
      if (error !== undefined && error !== null) process.stderr.write(`log flush failed: ${String(error)}\n`)
      resolve()
    })
  })
}
