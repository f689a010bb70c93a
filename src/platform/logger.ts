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

/** Bytes gathered before one write to stdout, and the longest a line may wait in memory when traffic is light. */
const BUFFER_BYTES = 4096
const FLUSH_EVERY_MS = 1000
/** Lines waiting beyond this (a stalled stdout reader) are dropped rather than allowed to exhaust the heap. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024

/**
 * The process's log destination: stdout through pino's asynchronous writer, gathering lines into
 * writes of 4 KiB (one system call per dozen access lines instead of one each), and flushed every
 * second so a quiet service's lines are not held back. If nothing reads stdout, at most 16 MiB of
 * lines wait and later ones are dropped: the service stays up. Call `flushLog` before the process
 * exits (pino also flushes it synchronously on 'exit', as a backstop).
 */
export function asyncStdout (): LogDestination {
  return pino.destination({ dest: 1, sync: false, minLength: BUFFER_BYTES, maxLength: MAX_PENDING_BYTES, periodicFlush: FLUSH_EVERY_MS })
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
