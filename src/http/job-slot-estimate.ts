import { performance } from 'node:perf_hooks'
import type { Jobs } from '../jobs/jobs.js'

/** Endings remembered: enough to smooth a burst, few enough to follow a change of workload. */
const REMEMBERED = 16
/** The estimate before any job has ended here: jobs are made for work longer than a request. */
const UNKNOWN_S = 30
const MAX_S = 600

/**
 * When a refused job (JOBS_MAX_ACTIVE reached) may expect a free slot: the mean interval between the
 * last jobs to end on this replica, the time since the last one included, so a long quiet spell
 * lengthens it. With Redis each replica sees only the endings it recorded, so it errs long.
 */
export class JobSlotEstimate {
  readonly #endedAt: number[] = []
  readonly stop: () => void

  /** `clock` in milliseconds, performance.now() but in tests. */
  constructor (jobs: Pick<Jobs, 'on'>, private readonly clock = () => performance.now()) {
    this.stop = jobs.on((event) => {
      if (event.type !== 'job-status' || event.status === 'queued' || event.status === 'running') return
      this.#endedAt.push(this.clock())
      if (this.#endedAt.length > REMEMBERED) this.#endedAt.shift()
    })
  }

  /** Seconds, at least 1. */
  seconds (): number {
    const first = this.#endedAt[0]
    if (first === undefined) return UNKNOWN_S
    const meanS = (this.clock() - first) / this.#endedAt.length / 1000
    return Math.min(MAX_S, Math.max(1, Math.ceil(meanS)))
  }
}
