import type { Redis } from 'ioredis'
import type { Config } from '../platform/config.js'
import { TooManyClientJobsError, TooManyJobsError } from '../errors.js'
import { toDocument, type JobDocument, type JobRequest } from './job-document.js'
import { newJobRecord } from './job-plan.js'
import type { JobTasks } from './job-tasks.js'
import { taskOf, type JobCaller, type JobNotifier, type SubmitOptions } from './jobs.js'
import { storeBinaryInput } from './redis-binary-input.js'
import { ACTIVE, activeOf, keysOf, toHash } from './redis-records.js'
import type { JobScripts } from './redis-scripts.js'

export interface RedisSubmitOptions {
  commands: Redis
  scripts: JobScripts
  notifier: JobNotifier
  tasks: JobTasks
  config: Pick<Config, 'JOB_CHUNK_TERMS' | 'JOB_TTL_S' | 'JOBS_MAX_ACTIVE' | 'JOBS_MAX_ACTIVE_PER_KEY' | 'JOBS_MAX_STORED_PER_KEY' | 'JOBS_MAX_STORED'>
  /** Queues the first chunks of an admitted job. */
  queueFirstChunks(id: string, task: string, chunks: number): Promise<void>
}

/**
 * Creating a job in Redis: a job with no work is stored finished at once; any other is admitted by
 * the submit script within the active caps (429, 503), its binary input written first (it expires
 * unless admitted, and is deleted when refused), then its first chunks are queued.
 */
export function redisSubmit ({ commands, scripts, notifier, tasks, config, queueFirstChunks }: RedisSubmitOptions) {
  return async function submit (request: JobRequest, caller: JobCaller, options?: SubmitOptions): Promise<JobDocument> {
    try {
      return await create(request, caller, options)
    } finally {
      // The values are in Redis now (or refused): this process no longer holds them.
      request.held?.release()
    }
  }

  async function create (request: JobRequest, caller: JobCaller, options?: SubmitOptions): Promise<JobDocument> {
    const record = newJobRecord(taskOf(tasks, request.task), request, caller, config.JOB_CHUNK_TERMS, options)
    const keys = keysOf(record.id)
    if (record.status === 'succeeded') {
      await scripts.jobStoreFinished([keys.job], [record.finishedAt!, config.JOB_TTL_S, config.JOBS_MAX_STORED_PER_KEY, config.JOBS_MAX_STORED, record.id, ...toHash(record)])
      notifier.emit({ type: 'job-status', status: 'queued' })
      notifier.emit({ type: 'job-status', status: 'succeeded' })
      return toDocument(record)
    }
    if (request.binary !== undefined) await storeBinaryInput(commands, keys.input, request.binary, config.JOB_TTL_S)
    const admitted = await scripts.jobSubmit([keys.job, ACTIVE, activeOf(record.client)], [config.JOBS_MAX_ACTIVE, config.JOBS_MAX_ACTIVE_PER_KEY, record.id, ...toHash(record)])
    if (admitted !== 'queued' && request.binary !== undefined) await commands.del(keys.input)
    if (admitted === 'client-full') throw new TooManyClientJobsError(config.JOBS_MAX_ACTIVE_PER_KEY)
    if (admitted === 'full') throw new TooManyJobsError(config.JOBS_MAX_ACTIVE)
    notifier.emit({ type: 'job-status', status: 'queued' })
    await queueFirstChunks(record.id, request.task, record.chunks)
    return toDocument(record)
  }
}
