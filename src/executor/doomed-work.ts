import { performance } from 'node:perf_hooks'
import type { Deadline } from './executor.js'

/**
 * How much faster than its estimate work is assumed to run when asked whether it can meet its
 * deadline: estimates are quiet-machine figures that real runs beat by up to 2x (TERMS_PER_MS), so
 * 4 refuses only work that could not finish even at twice the fastest speed measured.
 */
export const DEADLINE_SPEEDUP = 4

/** True when a task estimated at `costMs` cannot finish before `deadline`, even DEADLINE_SPEEDUP times faster. */
export function cannotMeet (deadline: Deadline | undefined, costMs: number | undefined): deadline is Deadline {
  if (deadline === undefined || costMs === undefined) return false
  return costMs / DEADLINE_SPEEDUP > deadline.at - performance.now()
}
