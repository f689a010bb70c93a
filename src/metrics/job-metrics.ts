import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { JOB_STATUSES } from '../jobs/job-document.js'
import type { Jobs, JobsEvent } from '../jobs/jobs.js'

// Job chunks are sized to run 0.2 to 2 s.
const CHUNK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30]

/** How often the active-job count is read from the back end, in the background. */
const ACTIVE_REFRESH_MS = 1000

/**
 * Job counters fed by the back end's events. In Redis mode each transition is counted by the one
 * replica that made it (sum over replicas).
 */
export function createJobMetrics (registry: Registry) {
  const registers = [registry]
  const transitions = new Counter({
    name: 'compute_jobs_total',
    help: `Jobs that entered each status here (${JOB_STATUSES.join(', ')})`,
    labelNames: ['status'] as const,
    registers
  })
  const retries = new Counter({ name: 'compute_job_chunk_retries_total', help: 'Job chunks started again after an earlier attempt was interrupted (its replica died or shut down)', registers })
  const chunkTime = new Histogram({
    name: 'compute_job_chunk_run_seconds',
    help: 'Time completed job chunks spent in the task function, on a worker thread of this replica',
    buckets: CHUNK_BUCKETS,
    registers
  })
  for (const status of JOB_STATUSES) transitions.inc({ status }, 0)

  return (event: JobsEvent): void => {
    switch (event.type) {
      case 'job-status': transitions.inc({ status: event.status }); break
      case 'chunk-completed': chunkTime.observe(event.kernelMs / 1000); break
      case 'chunk-retried': retries.inc(); break
    }
  }
}

/**
 * `compute_jobs_active` (the whole cluster's in Redis mode: take the max over replicas, not the sum), read
 * in the background so that a scrape never waits on Redis: a slow or gone Redis shows as
 * `compute_jobs_store_up` 0 and a growing `compute_jobs_active_age_seconds`. Returns the function that stops it.
 */
export function watchActiveJobs (registry: Registry, jobs: Jobs): () => void {
  const registers = [registry]
  const active = new Gauge({ name: 'compute_jobs_active', help: `Jobs queued or running (${jobs.backend === 'redis' ? 'every replica\'s' : 'this process\'s'}), as last read`, registers })
  const up = new Gauge({ name: 'compute_jobs_store_up', help: 'Whether the last read of the job store answered (1) or failed or timed out (0)', registers })
  let readAt: number | undefined
  new Gauge({ // eslint-disable-line no-new
    name: 'compute_jobs_active_age_seconds',
    help: 'Seconds since compute_jobs_active was last read successfully',
    registers,
    collect () { if (readAt !== undefined) this.set((Date.now() - readAt) / 1000) }
  })
  let reading = false
  const refresh = () => {
    if (reading) return
    reading = true
    jobs.activeCount().then((count) => {
      active.set(count)
      up.set(1)
      readAt = Date.now()
    }, () => { up.set(0) }).finally(() => { reading = false })
  }
  refresh()
  const timer = setInterval(refresh, ACTIVE_REFRESH_MS).unref()
  return () => clearInterval(timer)
}
