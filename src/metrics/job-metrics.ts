import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { JOB_STATUSES } from '../jobs/job-document.js'
import type { Jobs, JobsEvent } from '../jobs/jobs.js'

// Job chunks are sized to run 0.2 to 2 s.
const CHUNK_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30]

/**
 * Job counters fed by the back end's events, and the active-job gauge read at scrape time. In Redis
 * mode each transition is counted by the one replica that made it (sum over replicas), while
 * `jobs_active` is the whole cluster's (take the max over replicas, not the sum).
 */
export function createJobMetrics (registry: Registry, jobs: Jobs) {
  const registers = [registry]
  const transitions = new Counter({
    name: 'jobs_total',
    help: `Jobs that entered each status here (${JOB_STATUSES.join(', ')})`,
    labelNames: ['status'] as const,
    registers
  })
  const retries = new Counter({ name: 'job_chunk_retries_total', help: 'Job chunks started again after an earlier attempt was interrupted (its replica died or shut down)', registers })
  const chunkTime = new Histogram({
    name: 'job_chunk_run_seconds',
    help: 'Time completed job chunks spent in the task function, on a worker thread of this replica',
    buckets: CHUNK_BUCKETS,
    registers
  })
  new Gauge({ // eslint-disable-line no-new
    name: 'jobs_active',
    help: `Jobs queued or running (${jobs.backend === 'redis' ? 'every replica\'s' : 'this process\'s'})`,
    registers,
    async collect () {
      // A scrape still answers while Redis is away; the gauge is left out of it.
      try { this.set(await jobs.activeCount()) } catch { this.reset() }
    }
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
