import { performance } from 'node:perf_hooks'
import type { Deadline } from './executor.js'

/**
 * How much faster than its estimate work is assumed to run when asked whether it can meet its
 * deadline: estimates are quiet-machine figures that real runs beat by up to 2x (TERMS_PER_MS), so
 * 2 refuses only work that could not finish even at the fastest speed measured. Together with
 * THREAD_START_MS it leaves a thread replaced only for work of 200 ms and more, cut after at least half of it.
 */
export const DEADLINE_SPEEDUP = 2

/** True when a task estimated at `costMs` cannot finish before `deadline`, even DEADLINE_SPEEDUP times faster. */
export function cannotMeet (deadline: Deadline | undefined, costMs: number | undefined): deadline is Deadline {
  if (deadline === undefined || costMs === undefined) return false
  return costMs / DEADLINE_SPEEDUP > deadline.at - performance.now()
}
