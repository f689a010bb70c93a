import { ClientDisconnectedError, DeadlineExceededError } from '../errors.js'
import type { AbortReason } from './executor.js'

/** The reason the siblings of a failed task are aborted with. */
export class SiblingFailed extends Error {
  constructor (cause: unknown) {
    super('a sibling task failed', { cause })
  }
}

/** Shaped like Piscina's own abort error, so an abort reads the same wherever the task was. */
export function abortError (reason: unknown): Error {
  return Object.assign(new Error('The task has been aborted', { cause: reason }), { name: 'AbortError' })
}

export function abortReasonOf (error: unknown): AbortReason | undefined {
  if (!(error instanceof Error) || error.name !== 'AbortError') return undefined
  return abortReasonFor(error.cause)
}

/** The reason a signal was aborted with, as the word metrics, logs and traces use for it. */
export function abortReasonFor (cause: unknown): AbortReason {
  if (cause instanceof DeadlineExceededError) return 'deadline'
  if (cause instanceof ClientDisconnectedError) return 'disconnect'
  if (cause instanceof SiblingFailed) return 'sibling-failed'
  if (cause === 'pool is closed') return 'shutdown'
  return 'unknown'
}
