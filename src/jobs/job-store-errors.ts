import type { FastifyBaseLogger } from 'fastify'
import { hasPublicMessage, JobStoreFullError, JobStoreSlowError, JobsUnavailableError } from '../errors.js'

/**
 * Redis refused a write because it reached maxmemory (noeviction): the reply starts with OOM, also
 * from inside a Lua script or a BullMQ command.
 */
export const isRedisFull = (error: unknown) => /\bOOM\b/.test((error as Error | undefined)?.message ?? '')

/** ioredis's own message when `commandTimeout` passes without a reply. */
const isTimedOut = (error: unknown) => (error as Error | undefined)?.message === 'Command timed out'

/** The 503 a job route answers for a failed Redis command: full, slow, or else unreachable. */
export function jobStoreError (error: unknown, commandTimeoutMs: number): Error {
  if (isRedisFull(error)) return new JobStoreFullError()
  if (isTimedOut(error)) return new JobStoreSlowError(commandTimeoutMs)
  return new JobsUnavailableError()
}

/**
 * Runs a job route's Redis work: our own errors (too many jobs, shutting down) pass through; a
 * failed Redis command becomes the 503 that says which way it failed, and is logged.
 */
export function jobStoreGuard (log: FastifyBaseLogger, commandTimeoutMs: number) {
  return async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation()
    } catch (error) {
      if (hasPublicMessage(error as { code?: string })) throw error
      log.warn({ err: error }, 'job store request failed')
      throw jobStoreError(error, commandTimeoutMs)
    }
  }
}
