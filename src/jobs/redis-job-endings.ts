import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from '../platform/config.js'
import { errorBodyOf } from '../http/error-body.js'
import { signedZeroJson } from '../http/signed-zero-json.js'
import type { JobRecord } from './job-document.js'
import { readPartials } from './job-partials.js'
import { finishFailure, type JobChange, type JobNotifier } from './jobs.js'
import { isRedisFull } from './job-store-errors.js'
import type { StoredJob } from './stored-jobs.js'
import { ACTIVE, CANCELLED, keysOf } from './redis-records.js'
import type { JobScripts } from './redis-scripts.js'

export interface RedisJobEndingsOptions {
  commands: Redis
  scripts: JobScripts
  notifier: JobNotifier
  publish(id: string, change: JobChange): Promise<unknown>
  read(id: string): Promise<JobRecord | undefined>
  config: Pick<Config, 'JOB_TTL_S' | 'JOBS_MAX_STORED_PER_KEY' | 'JOBS_MAX_STORED'>
  log: FastifyBaseLogger
}

/**
 * How a Redis job ends: cancelled or failed (every replica stops its chunks), or succeeded once
 * its task has merged every chunk's recorded partial. Each end is one script that acts only on an
 * active job, so replicas racing to end the same job end it once.
 */
export type RedisJobEndings = ReturnType<typeof redisJobEndings>

export function redisJobEndings ({ commands, scripts, notifier, publish, read, config, log }: RedisJobEndingsOptions) {
  /** What every script that finishes a job needs: the stored caps. */
  const caps = [config.JOBS_MAX_STORED_PER_KEY, config.JOBS_MAX_STORED]

  async function endJob (id: string, status: 'failed' | 'cancelled', fields: string[] = []): Promise<boolean> {
    const keys = keysOf(id)
    const ended = await scripts.jobFinish([keys.job, keys.done, ACTIVE, keys.partials], [status, Date.now(), config.JOB_TTL_S, id, ...caps, ...fields])
    if (ended === 'ended-before') return false
    notifier.emit({ type: 'job-status', status })
    await commands.publish(CANCELLED, id)
    await publish(id, 'status')
    return true
  }

  /**
   * Fails an active job with `error` in its document. When Redis is full that write is refused, and
   * the job ends with what Redis still allows (redis-full-job.ts): either way it frees its place
   * and other replicas stop its chunks, rather than the job freezing while it holds a slot.
   */
  async function failJob (id: string, error: { statusCode: number, message: string }): Promise<void> {
    const record = await read(id)
    try {
      await endJob(id, 'failed', ['error', JSON.stringify(errorBodyOf(error, record?.requestId ?? ''))])
    } catch (failure) {
      if (!isRedisFull(failure)) throw failure
      log.error({ job: id }, 'Redis is full: ending the job without recording its failure reason (shown as "job store full")')
      const keys = keysOf(id)
      if (await scripts.jobEndWhenFull([keys.job, keys.done, ACTIVE, keys.partials], [config.JOB_TTL_S, id]) === 'ended-before') return
      notifier.emit({ type: 'job-status', status: 'failed' })
      await commands.publish(CANCELLED, id)
      await publish(id, 'status')
    }
  }

  async function allRecorded (id: string): Promise<boolean> {
    const [recorded, chunks] = await commands.hmget(keysOf(id).job, 'chunksDone', 'chunks')
    return recorded !== null && recorded === chunks
  }

  /**
   * The task's merge and answer, in TypeScript, over every chunk's recorded partial. Idempotent: the
   * partials never change once recorded, and only the first replica's jobSucceed ends the job.
   */
  async function finish (id: string, job: StoredJob): Promise<string> {
    const keys = keysOf(id)
    const partials = readPartials(await commands.getBuffer(keys.partials) ?? Buffer.alloc(0), job.chunks)
    // Ending a job drops its partials: another replica has ended it already.
    if (partials === undefined) return 'dropped: the job has ended'
    let result: unknown
    try {
      result = job.task.finish(partials, job.input)
    } catch (error) {
      await failJob(id, finishFailure(error))
      return 'the job failed: its task refused the result'
    }
    const succeeded = await scripts.jobSucceed([keys.job, keys.done, ACTIVE, keys.partials], [Date.now(), config.JOB_TTL_S, id, ...caps, signedZeroJson(result)])
    if (succeeded === 'not-running') return 'merged: another replica ended the job first'
    notifier.emit({ type: 'job-status', status: 'succeeded' })
    await publish(id, 'status')
    return 'the job succeeded'
  }

  return { endJob, failJob, allRecorded, finish }
}
