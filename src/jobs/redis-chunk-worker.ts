import { hostname } from 'node:os'
import { WaitingError, Worker, type Job } from 'bullmq'
import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { Config } from '../platform/config.js'
import { JobFailedError, JobStoreFullFailureError } from '../errors.js'
import type { Executor, TaskInput, TaskName } from '../executor/executor.js'
import { CHUNKS_AHEAD } from './chunk-window.js'
import { recordPartial } from './job-partials.js'
import { chunkUnits } from './job-plan.js'
import type { JobChange, JobNotifier } from './jobs.js'
import { isRedisFull } from './job-store-errors.js'
import { CHUNK_ATTEMPTS, CHUNK_QUEUE, type ChunkData, type ChunkQueue } from './redis-chunk-queue.js'
import type { RedisJobEndings } from './redis-job-endings.js'
import { keysOf } from './redis-records.js'
import type { JobScripts } from './redis-scripts.js'
import type { StoredJobs } from './stored-jobs.js'

/** A chunk whose replica dies this many times more fails its job: something in it may be killing replicas. */
export const MAX_STALLS = 2

export interface ChunkWorkerOptions {
  connection: Redis
  scripts: JobScripts
  chunks: ChunkQueue
  stored: StoredJobs
  executor: Executor
  notifier: JobNotifier
  endings: RedisJobEndings
  publish(id: string, change: JobChange): Promise<unknown>
  config: Pick<Config, 'JOB_THREADS' | 'JOB_LOCK_MS'>
  log: FastifyBaseLogger
}

/**
 * This replica's share of the chunk queue: a BullMQ worker that runs chunks on the pool, records
 * each partial once (the chunk-done script), brings in the chunk CHUNKS_AHEAD after it, and has
 * the replica that records the last one merge. BullMQ's lock and stalled check give a dead
 * replica's chunks to another. Design: docs/jobs.md.
 */
export function startChunkWorker ({ connection, scripts, chunks, stored, executor, notifier, endings, publish, config, log }: ChunkWorkerOptions) {
  /** Chunk ids running here, by job id: what a cancel aborts. */
  const local = new Map<string, Set<string>>()
  /** Set on shutdown: aborted chunks go back to the queue for another replica rather than end. */
  let returning = false

  async function processChunk (chunk: Job<ChunkData>, token?: string, signal?: AbortSignal): Promise<string> {
    try {
      return await runChunk(chunk, token, signal)
    } catch (error) {
      // Retrying cannot help while Redis refuses writes (nor could BullMQ record the retry).
      if (!isRedisFull(error)) throw error
      await endings.failJob(chunk.data.job, new JobStoreFullFailureError())
      return 'failed: the job store is full'
    }
  }

  async function runChunk (chunk: Job<ChunkData>, token?: string, signal?: AbortSignal): Promise<string> {
    const { job: id, index, chunks: count } = chunk.data
    const keys = keysOf(id)
    const job = await stored.of(id)
    if (job === undefined) return 'dropped: the job is no longer stored'
    if (chunk.attemptsStarted > 1) notifier.emit({ type: 'chunk-retried' })
    const started = await scripts.jobChunkStart([keys.job], [Date.now()])
    if (started === 'inactive') return 'dropped: the job is no longer active'
    if (started === 'started') {
      notifier.emit({ type: 'job-status', status: 'running' })
      await publish(id, 'status')
    }
    let running = local.get(id)
    if (running === undefined) local.set(id, running = new Set())
    running.add(chunk.id!)
    let value: unknown
    try {
      const outcome = await executor.execute(job.task.name as TaskName, job.inputs[index] as TaskInput<TaskName>, { signal, priority: 'job' })
      notifier.emit({ type: 'chunk-completed', kernelMs: outcome.kernelMs })
      value = outcome.value
    } catch (error) {
      if (signal?.aborted !== true) throw error
      if (!returning) return 'aborted: the job was cancelled'
      // Shutting down: back to the queue at once, for another replica, rather than after the lock expires.
      await chunk.moveToWait(token)
      throw new WaitingError()
    } finally {
      running.delete(chunk.id!)
      if (running.size === 0) local.delete(id)
    }
    const recorded = await scripts.jobChunkDone([keys.job, keys.done, keys.partials], [index, recordPartial(index, value), chunkUnits(job, index), id])
    if (recorded === 'inactive') return 'dropped: the job is no longer active'
    // The last chunk's replica merges; if it died first, the chunk runs again, finds itself recorded, and merges then.
    if (recorded === 'last' || (recorded === 'recorded-before' && await endings.allRecorded(id))) {
      stored.forget(id)
      return await endings.finish(id, job)
    }
    // Each chunk brings in the one CHUNKS_AHEAD after it, also when it was recorded before (its first
    // run died between recording and adding).
    if (index + CHUNKS_AHEAD < count) await chunks.add(id, job.task.name, count, [index + CHUNKS_AHEAD])
    return 'recorded'
  }

  const worker = new Worker<ChunkData, string>(CHUNK_QUEUE, processChunk, {
    connection,
    name: `${hostname()}:${process.pid}`,
    concurrency: config.JOB_THREADS,
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: Math.max(500, Math.floor(config.JOB_LOCK_MS / 2)),
    maxStalledCount: MAX_STALLS
  })
  worker.on('error', (error) => { log.warn({ err: error }, 'job worker error') })
  // A lost lock means the chunk may run elsewhere: stop spending CPU on it here.
  worker.on('lockRenewalFailed', (ids) => { for (const id of ids) worker.cancelJob(id, 'lock lost') })
  worker.on('failed', (chunk, error) => {
    // finishedOn is set once BullMQ gives up on the chunk; before that it is retried.
    if (chunk?.finishedOn === undefined) return
    const stalled = error.name === 'UnrecoverableError' && /stalled/.test(error.message)
    log.error({ err: error, job: chunk.data.job, chunk: chunk.data.index }, 'a job chunk failed; failing the job')
    const reason = stalled ? `a chunk was interrupted more than ${MAX_STALLS} times (its replicas stopped while running it)` : `a chunk failed ${CHUNK_ATTEMPTS} times`
    endings.failJob(chunk.data.job, new JobFailedError(reason)).catch((failure: unknown) => log.error({ err: failure }, 'could not record a failed job'))
  })

  return {
    worker,
    /** Aborts this replica's running chunks of a job (cancelled, failed, or its lock lost). */
    abort (id: string, reason: string) {
      for (const chunk of local.get(id) ?? []) worker.cancelJob(chunk, reason)
    },
    /** Jobs with a chunk running here. */
    runningJobs: () => [...local.keys()],
    runningChunks: () => [...local.values()].reduce((sum, set) => sum + set.size, 0),
    /** Aborts every running chunk and hands it back to the queue (shutdown, once its grace is over). */
    returnRunning () {
      returning = true
      worker.cancelAllJobs('shutdown')
    }
  }
}
