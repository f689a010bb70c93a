import type { FastifyBaseLogger } from 'fastify'
import type { Config } from '../platform/config.js'
import { errorBodyOf } from '../http/error-body.js'
import { JobFailedError, JobInterruptedError, ShuttingDownError, TooManyClientJobsError, TooManyJobsError } from '../errors.js'
import { Cancellation } from '../executor/cancellation.js'
import type { Executor, TaskInput, TaskName } from '../executor/executor.js'
import { FinishedJobs } from './finished-jobs.js'
import { isActive, toDocument, type JobDocument, type JobRecord, type JobRequest, type JobStatus } from './job-document.js'
import { chunkUnits, newJobRecord } from './job-plan.js'
import { newestFirst, pageOf } from './job-pages.js'
import { embeddedIdempotencyKeys } from './idempotency-keys.js'
import type { JobTask, JobTasks } from './job-tasks.js'
import { finishFailure, JobNotifier, taskOf, visibleTo, type JobCaller, type Jobs, type SubmitOptions } from './jobs.js'

export interface JobsOptions {
  executor: Executor
  /** The declared tasks a job may run (job-tasks.ts). */
  tasks: JobTasks
  config: Pick<Config, 'JOB_CHUNK_TERMS' | 'JOBS_MAX_ACTIVE' | 'JOB_TTL_S' | 'JOB_THREADS' | 'JOBS_MAX_ACTIVE_PER_KEY' | 'JOBS_MAX_STORED_PER_KEY' | 'JOBS_MAX_STORED'>
  log: FastifyBaseLogger
}

interface EmbeddedJob {
  record: JobRecord
  task: JobTask
  /** The kernels' inputs, cut by the task's split when the first chunk runs. */
  inputs?: unknown[]
  /** The next chunk to start, and the running ones by index. */
  next: number
  running: Map<number, Cancellation>
  chunksDone: number
  /** Each finished chunk's partial result, by index, for the task's merge once all are in. */
  partials: unknown[]
  expiry?: NodeJS.Timeout
  /** The upload budget's reservation of a binary input, held while the job holds the values. */
  held?: { release(): void } | undefined
}

/** The reason running chunks of a cancelled job are aborted with. */
class JobEnded extends Error {}

/**
 * Jobs in this process's memory, their chunks on this process's pool. At most JOB_THREADS chunks
 * run at once, taken from the job with the fewest chunks started (so a small job is not stuck
 * behind a large one). Nothing survives the process: on shutdown active jobs end as cancelled.
 */
export function createEmbeddedJobs ({ executor, tasks, config, log }: JobsOptions): Jobs {
  const jobs = new Map<string, EmbeddedJob>()
  /** Queued and running jobs, oldest first. */
  const active = new Set<EmbeddedJob>()
  /** Active jobs by client, for JOBS_MAX_ACTIVE_PER_KEY. */
  const activeOf = new Map<string, number>()
  /** Job ids by client, for the list. */
  const ofClient = new Map<string, Set<string>>()
  const finished = new FinishedJobs(config.JOBS_MAX_STORED_PER_KEY, config.JOBS_MAX_STORED)
  const notifier = new JobNotifier()
  const idempotency = embeddedIdempotencyKeys()
  let runningChunks = 0
  let stopped = false

  const find = (id: string, caller: JobCaller) => {
    const job = jobs.get(id)
    return job !== undefined && visibleTo(job.record, caller) ? job : undefined
  }

  function changeStatus (job: EmbeddedJob, status: JobStatus, fields: Partial<JobRecord> = {}) {
    Object.assign(job.record, fields, { status })
    notifier.emit({ type: 'job-status', status })
    if (isActive(status)) return notifier.changed(job.record.id, 'status')
    job.record.finishedAt = Date.now()
    // Kept only until the merge: a finished job holds its document alone.
    job.inputs = undefined
    job.record.binary = undefined
    job.held?.release()
    job.partials = []
    active.delete(job)
    const left = (activeOf.get(job.record.client) ?? 1) - 1
    if (left === 0) activeOf.delete(job.record.client)
    else activeOf.set(job.record.client, left)
    for (const signal of job.running.values()) signal.abort(new JobEnded())
    store(job)
    notifier.changed(job.record.id, 'status')
  }

  /** Keeps a finished job JOB_TTL_S, within the stored caps: evicts the oldest finished ones past them. */
  function store (job: EmbeddedJob) {
    job.expiry = setTimeout(() => forget(job.record.id), config.JOB_TTL_S * 1000).unref()
    for (const id of finished.add(job.record.id, job.record.client)) forget(id)
  }

  function forget (id: string) {
    const job = jobs.get(id)
    if (job === undefined) return
    clearTimeout(job.expiry)
    jobs.delete(id)
    finished.remove(id)
    if (job.record.idempotencyKey !== undefined) idempotency.forget(job.record.idempotencyKey)
    const mine = ofClient.get(job.record.client)
    mine?.delete(id)
    if (mine?.size === 0) ofClient.delete(job.record.client)
  }

  function nextJob (): EmbeddedJob | undefined {
    let next: EmbeddedJob | undefined
    for (const job of active) if (job.next < job.record.chunks && (next === undefined || job.next < next.next)) next = job
    return next
  }

  function pump () {
    if (stopped) return
    while (runningChunks < config.JOB_THREADS) {
      const job = nextJob()
      if (job === undefined) return
      runChunk(job, job.next++).catch((error: unknown) => { log.error({ err: error }, 'job chunk bookkeeping failed') })
    }
  }

  async function runChunk (job: EmbeddedJob, index: number) {
    const { record } = job
    const signal = new Cancellation()
    runningChunks++
    job.running.set(index, signal)
    if (record.status === 'queued') changeStatus(job, 'running', { startedAt: Date.now() })
    try {
      job.inputs ??= job.task.split(record.binary ?? record.input, record.chunks)
      const outcome = await executor.execute(record.task as TaskName, job.inputs[index] as TaskInput<TaskName>, { signal, priority: 'job' })
      if (!isActive(record.status)) return
      notifier.emit({ type: 'chunk-completed', kernelMs: outcome.kernelMs })
      job.partials[index] = outcome.value
      record.done += chunkUnits(record, index)
      if (++job.chunksDone < record.chunks) return notifier.changed(record.id, 'progress')
      finish(job)
    } catch (error) {
      if (signal.aborted || !isActive(record.status)) return
      log.error({ err: error, job: record.id, chunk: index }, 'a job chunk failed; failing the job')
      changeStatus(job, 'failed', { error: errorBodyOf(new JobFailedError('a chunk could not be computed'), record.requestId) })
    } finally {
      job.running.delete(index)
      runningChunks--
      pump()
    }
  }

  /** The task's merge and answer, once every chunk is in; a task's own error (a 422) fails the job with it. */
  function finish (job: EmbeddedJob) {
    let result: unknown
    try {
      result = job.task.finish(job.partials, job.record.binary ?? job.record.input)
    } catch (error) {
      return changeStatus(job, 'failed', { error: errorBodyOf(finishFailure(error), job.record.requestId) })
    }
    changeStatus(job, 'succeeded', { result })
  }

  function submit (request: JobRequest, caller: JobCaller, options: SubmitOptions | undefined, held: { release(): void } | undefined): JobDocument {
    if (stopped) throw new ShuttingDownError()
    if ((activeOf.get(caller.client) ?? 0) >= config.JOBS_MAX_ACTIVE_PER_KEY) throw new TooManyClientJobsError(config.JOBS_MAX_ACTIVE_PER_KEY)
    if (active.size >= config.JOBS_MAX_ACTIVE) throw new TooManyJobsError(config.JOBS_MAX_ACTIVE)
    const task = taskOf(tasks, request.task)
    const record = newJobRecord(task, request, caller, config.JOB_CHUNK_TERMS, options)
    const job: EmbeddedJob = { record, task, next: 0, running: new Map(), chunksDone: 0, partials: [], held }
    jobs.set(record.id, job)
    let mine = ofClient.get(record.client)
    if (mine === undefined) ofClient.set(record.client, mine = new Set())
    mine.add(record.id)
    notifier.emit({ type: 'job-status', status: 'queued' })
    if (record.status === 'succeeded') {
      notifier.emit({ type: 'job-status', status: 'succeeded' })
      store(job)
      held?.release()
    } else {
      active.add(job)
      activeOf.set(record.client, (activeOf.get(record.client) ?? 0) + 1)
      pump()
    }
    return toDocument(record)
  }

  return {
    backend: 'embedded',
    tasks,
    idempotency,
    async submit ({ held, ...request }, caller, options) {
      // Released unless the job is admitted and keeps its input (changeStatus releases it then).
      try {
        return submit(request, caller, options, held)
      } catch (error) {
        held?.release()
        throw error
      }
    },
    async get (id, caller) {
      const job = find(id, caller)
      return job === undefined ? undefined : toDocument(job.record)
    },
    async cancel (id, caller) {
      const job = find(id, caller)
      if (job === undefined) return undefined
      if (isActive(job.record.status)) changeStatus(job, 'cancelled')
      return toDocument(job.record)
    },
    async remove (id, caller) {
      const job = find(id, caller)
      if (job === undefined) return undefined
      if (isActive(job.record.status)) return { outcome: 'active', document: toDocument(job.record) }
      forget(id)
      return { outcome: 'removed', document: toDocument(job.record) }
    },
    async list (caller, query) {
      // At most JOBS_MAX_ACTIVE_PER_KEY + JOBS_MAX_STORED_PER_KEY jobs of one client: sorting them is cheap.
      const records = [...ofClient.get(caller.client) ?? []].map((id) => jobs.get(id)!.record).sort(newestFirst)
      return await pageOf(records, query)
    },
    watch: (id, listener) => notifier.watch(id, listener),
    activeCount: async () => active.size,
    on: (listener) => notifier.on(listener),
    async stop () {
      stopped = true
      for (const job of [...active]) {
        changeStatus(job, 'cancelled', { error: errorBodyOf(new JobInterruptedError(), job.record.requestId) })
      }
      notifier.closing()
    },
    async close () {
      for (const job of jobs.values()) clearTimeout(job.expiry)
    }
  }
}
