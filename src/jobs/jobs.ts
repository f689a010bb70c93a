import type { Queue } from 'bullmq'
import type { JobDocument, JobRecord, JobRequest, JobStatus } from './job-document.js'
import type { IdempotencyKeys } from './idempotency-keys.js'
import type { JobListQuery, JobPage } from './job-pages.js'
import type { JobTask, JobTasks } from './job-tasks.js'
import { JobFailedError } from '../errors.js'

export const JOB_BACKENDS = ['embedded', 'redis'] as const
export type JobBackend = typeof JOB_BACKENDS[number]

/**
 * Who asks: the digest of their API key (undefined without API_KEYS: everyone sees every job), the
 * client whose share of active and stored jobs it counts against (its key, else its address), and
 * the request's id.
 */
export interface JobCaller {
  owner?: string | undefined
  client: string
  requestId: string
}

/**
 * What a job's watcher is told: it may have changed (`status` when its status did, `progress` when a
 * chunk finished), or the service is closing and the watcher should let go.
 */
export type JobChange = 'status' | 'progress' | 'closing'

/** What the back ends report, for metrics. */
export type JobsEvent =
  /** A job entered this status here (each transition is reported by exactly one replica). */
  | { type: 'job-status', status: JobStatus }
  /** A chunk ran to completion on this replica. */
  | { type: 'chunk-completed', kernelMs: number }
  /** A chunk started again after an earlier attempt was interrupted (its replica died or shut down). */
  | { type: 'chunk-retried' }

export type JobsListener = (event: JobsEvent) => void

export interface SubmitOptions {
  /** Where the request's Idempotency-Key is kept, to be freed with the job. */
  idempotencyKey?: string | undefined
}

/** What DELETE did: removed a finished job, or nothing, because the job is still active (cancel it first). */
export type JobRemoval = { outcome: 'removed' | 'active', document: JobDocument }

/** Long computations, cut into chunks that run on the executor's pool: in this process, or on every replica through Redis. */
export interface Jobs {
  readonly backend: JobBackend
  /** The tasks a job may run: POST /v1/jobs's schema and the job document's are made from them. */
  readonly tasks: JobTasks
  /** Idempotency-Key's keys, kept where the jobs are (idempotent-submit.ts). */
  readonly idempotency: IdempotencyKeys
  /** The BullMQ queues behind the back end, for dashboards (bull-board on the metrics port); none when embedded. */
  readonly queues?: readonly Queue[]
  /**
   * Creates a job; a TooManyClientJobsError (429) when the caller's client has JOBS_MAX_ACTIVE_PER_KEY
   * jobs active, a TooManyJobsError (503) when JOBS_MAX_ACTIVE jobs are. Past JOBS_MAX_STORED_PER_KEY
   * or JOBS_MAX_STORED finished jobs the oldest finished one (of the client, or overall) is evicted.
   */
  submit(request: JobRequest, caller: JobCaller, options?: SubmitOptions): Promise<JobDocument>
  /** The job, or undefined when it is unknown, expired, or belongs to another key. */
  get(id: string, caller: JobCaller): Promise<JobDocument | undefined>
  /**
   * Cancels an active job; a finished one is answered as it is, so a retried cancel never loses a
   * result. Returns the document (undefined as for get).
   */
  cancel(id: string, caller: JobCaller): Promise<JobDocument | undefined>
  /** Removes a finished job (404 from then on); an active one is left alone and answered as `active`. */
  remove(id: string, caller: JobCaller): Promise<JobRemoval | undefined>
  /** The caller's client's jobs (its API key's, else its address's), newest first, a page at a time. */
  list(caller: JobCaller, query: JobListQuery): Promise<JobPage>
  /** Calls `listener` when the job may have changed; returns the function that stops it. */
  watch(id: string, listener: (change: JobChange) => void): () => void
  /** Queued and running jobs (every replica's in Redis mode). */
  activeCount(): Promise<number>
  on(listener: JobsListener): () => void
  /** Shutdown's first step: take no more chunks, and let watchers go. */
  stop(): Promise<void>
  /** Shutdown's last step, within the grace period: finish or hand back running chunks, close connections. */
  close(): Promise<void>
}

/** A task POST /v1/jobs's schema has admitted, or one a stored job names. */
export function taskOf (tasks: JobTasks, name: string): JobTask {
  const task = tasks.get(name)
  if (task === undefined) throw new Error(`no job task "${name}"`)
  return task
}

/** Why a job whose chunks all ran did not succeed: the task's own error (a 422, as its route answers), or a failure. */
export function finishFailure (error: unknown): { statusCode: number, message: string } {
  const own = error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number'
  return own ? error as Error & { statusCode: number } : new JobFailedError('its result could not be computed')
}

/** A job is visible to the key that created it; without API_KEYS, to everyone. */
export function visibleTo (record: Pick<JobRecord, 'owner'>, caller: JobCaller): boolean {
  return caller.owner === undefined || record.owner === caller.owner
}

/** Watchers by job id, and event listeners: the part of a back end that only talks to this process. */
export class JobNotifier {
  readonly #watchers = new Map<string, Set<(change: JobChange) => void>>()
  readonly #listeners = new Set<JobsListener>()

  watch (id: string, listener: (change: JobChange) => void): () => void {
    let set = this.#watchers.get(id)
    if (set === undefined) this.#watchers.set(id, set = new Set())
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.#watchers.delete(id)
    }
  }

  changed (id: string, change: JobChange): void {
    for (const listener of this.#watchers.get(id) ?? []) listener(change)
  }

  closing (): void {
    for (const [id] of this.#watchers) this.changed(id, 'closing')
  }

  on (listener: JobsListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  emit (event: JobsEvent): void {
    for (const listener of this.#listeners) listener(event)
  }
}
