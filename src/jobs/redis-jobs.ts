import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue, WaitingError, Worker, type Job } from 'bullmq'
import type { Config } from '../platform/config.js'
import { JobFailedError, JobStoreFullFailureError, ShuttingDownError } from '../errors.js'
import type { TaskInput, TaskName } from '../executor/executor.js'
import { isActive, toDocument } from './job-document.js'
import { recordPartial } from './job-partials.js'
import { chunkUnits } from './job-plan.js'
import { JobNotifier, visibleTo, type JobChange, type Jobs } from './jobs.js'
import { redisJobEndings } from './redis-job-endings.js'
import { StoredJobs } from './stored-jobs.js'
import type { JobsOptions } from './embedded-jobs.js'
import { connectJobStore } from './job-store-connections.js'
import { isRedisFull, jobStoreGuard } from './job-store-errors.js'
import { chunkId, CHUNKS_AHEAD, firstChunks, queuedChunks } from './chunk-window.js'
import { ACTIVE, CANCELLED, CHANGED, fromHash, keysOf } from './redis-records.js'
import { listJobs, removeFinished } from './redis-job-queries.js'
import { redisSubmit } from './redis-job-submit.js'
import { guardedKeys, redisIdempotencyKeys } from './idempotency-keys.js'
import { defineScripts, type ChunkRecorded } from './redis-scripts.js'

export interface RedisJobsOptions extends JobsOptions {
  config: JobsOptions['config'] & Pick<Config, 'JOB_LOCK_MS' | 'SHUTDOWN_GRACE_MS' | 'REDIS_COMMAND_TIMEOUT_MS'> & { REDIS_URL: string }
  /** A job queued this long without its first chunk in the queue lost it with its replica, and gets it again (tests shorten it). */
  orphanAfterMs?: number
}

/** A chunk whose replica dies this many times more fails its job: something in it may be killing replicas. */
export const MAX_STALLS = 2
/** Runs of a chunk that throws before its job fails. */
const CHUNK_ATTEMPTS = 3
/** BullMQ's largest priority (lower runs first). */
const MAX_PRIORITY = 2 ** 21

/** The BullMQ queue of every job's chunks. */
export const CHUNK_QUEUE = 'compute-chunks'

/** A chunk in the queue names its job; the job's input stays in the job's hash (stored-jobs.ts). */
interface ChunkData {
  job: string
  index: number
  chunks: number
}

/**
 * Jobs in Redis, their chunks in a BullMQ queue that every replica started with the same REDIS_URL
 * works on with its own pool. The job document is a hash changed only by the Lua scripts of
 * redis-scripts.ts; BullMQ carries the chunks, and its lock and stalled check give a dead replica's
 * chunks to another. Cancels and progress travel by pub/sub. Design: docs/jobs.md.
 */
export async function createRedisJobs ({ executor, tasks, config, log, orphanAfterMs = 30_000 }: RedisJobsOptions): Promise<Jobs> {
  const { commands, subscriber, workerConnection } = await connectJobStore(config, log)
  const run = defineScripts(commands)
  const notifier = new JobNotifier()
  const stored = new StoredJobs(commands, tasks)
  const queue = new Queue<ChunkData>(CHUNK_QUEUE, {
    connection: commands,
    // Retries are for the bookkeeping around a chunk (a Redis hiccup must not fail a job of hours);
    // the kernel itself is deterministic.
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: CHUNK_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } }
  })
  /** Chunk ids running here, by job id: what a cancel aborts. */
  const local = new Map<string, Set<string>>()
  let returning = false
  let stopping: Promise<void> | undefined
  let stoppedAt = 0

  const publish = (id: string, change: JobChange) => commands.publish(CHANGED, `${id} ${change}`)
  const guarded = jobStoreGuard(log, config.REDIS_COMMAND_TIMEOUT_MS)
  const read = async (id: string) => fromHash(await commands.hgetall(keysOf(id).job))
  const { endJob, failJob, allRecorded, finish } = redisJobEndings({ commands, run, notifier, publish, read, config, log })
  const queueFirstChunks = (id: string, task: string, chunks: number) => addChunks(id, task, chunks, firstChunks(chunks))
  const submit = redisSubmit({ commands, run, notifier, tasks, config, queueFirstChunks })

  async function addChunks (id: string, task: string, chunks: number, indices: number[]) {
    await queue.addBulk(indices.map((index) => ({
      name: task,
      data: { job: id, index, chunks },
      // Deterministic ids make adding a chunk twice a no-op; lower indices first spreads the
      // cluster over every active job.
      opts: { jobId: chunkId(id, index), priority: Math.min(index + 1, MAX_PRIORITY) }
    })))
  }

  function abortLocal (id: string, reason: string) {
    for (const chunk of local.get(id) ?? []) worker.cancelJob(chunk, reason)
  }

  /** Removes the chunks of a cancelled job still waiting in the queue (chunk-window.ts). */
  async function removeQueuedChunks (id: string, chunks: number, bitmap: Buffer) {
    // A chunk running somewhere is locked and stays; its replica aborts it on the cancel message.
    await Promise.all(queuedChunks(chunks, bitmap).map((index) => queue.remove(chunkId(id, index)).catch(() => 0)))
  }

  async function processChunk (chunk: Job<ChunkData>, token?: string, signal?: AbortSignal): Promise<string> {
    try {
      return await runChunk(chunk, token, signal)
    } catch (error) {
      // Retrying cannot help while Redis refuses writes (nor could BullMQ record the retry).
      if (!isRedisFull(error)) throw error
      await failJob(chunk.data.job, new JobStoreFullFailureError())
      return 'failed: the job store is full'
    }
  }

  async function runChunk (chunk: Job<ChunkData>, token?: string, signal?: AbortSignal): Promise<string> {
    const { job: id, index, chunks } = chunk.data
    const keys = keysOf(id)
    const job = await stored.of(id)
    if (job === undefined) return 'dropped: the job is no longer stored'
    if (chunk.attemptsStarted > 1) notifier.emit({ type: 'chunk-retried' })
    const started = await run('jobChunkStart', [keys.job], [Date.now()])
    if (started === 0) return 'dropped: the job is no longer active'
    if (started === 2) {
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
    const recorded = await run('jobChunkDone', [keys.job, keys.done, keys.partials], [index, recordPartial(index, value), chunkUnits(job, index)]) as ChunkRecorded
    if (recorded === 'inactive') return 'dropped: the job is no longer active'
    // The last chunk's replica merges; if it died first, the chunk runs again, finds itself recorded, and merges then.
    if (recorded === 'last' || (recorded === 'recorded-before' && await allRecorded(id))) {
      stored.forget(id)
      return await finish(id, job)
    }
    // Each chunk brings in the one CHUNKS_AHEAD after it, also when it was recorded before (its first
    // run died between recording and adding).
    if (index + CHUNKS_AHEAD < chunks) await addChunks(id, job.task.name, chunks, [index + CHUNKS_AHEAD])
    if (recorded === 'recorded') await publish(id, 'progress')
    return 'recorded'
  }

  const worker = new Worker<ChunkData, string>(CHUNK_QUEUE, processChunk, {
    connection: workerConnection,
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
    failJob(chunk.data.job, new JobFailedError(reason)).catch((failure: unknown) => log.error({ err: failure }, 'could not record a failed job'))
  })

  await subscriber.subscribe(CHANGED, CANCELLED)
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === CANCELLED) return abortLocal(message, 'cancelled')
    const [id, change] = message.split(' ') as [string, JobChange]
    notifier.changed(id, change)
  })

  // A cancel message missed (a dropped connection) still stops local chunks within a second.
  const sweep = setInterval(() => {
    for (const id of local.keys()) {
      commands.hget(keysOf(id).job, 'status').then((status) => {
        if (status !== 'running') abortLocal(id, 'cancelled')
      }, () => {})
    }
  }, 1000).unref()

  // A replica that died between creating a job and queueing its first chunks left it queued with
  // nothing to run. Its chunk ids are deterministic and none has run (it is still queued), so
  // queueing them again is safe, whichever replica does it, however often.
  async function requeueOrphans () {
    for (const id of await commands.smembers(ACTIVE)) {
      const record = await read(id)
      if (record?.status !== 'queued' || Date.now() - record.createdAt < orphanAfterMs) continue
      if (await queue.getJob(chunkId(id, 0)) !== undefined) continue
      log.warn({ job: id }, 'queueing the first chunks of a job whose replica stopped before it could')
      await addChunks(id, record.task, record.chunks, firstChunks(record.chunks))
    }
  }
  const orphans = setInterval(() => {
    requeueOrphans().catch((error: unknown) => log.warn({ err: error }, 'could not look for orphaned jobs'))
  }, orphanAfterMs / 2).unref()

  async function closeInOrder () {
    stopping ??= worker.close()
    const returnAt = stoppedAt + config.SHUTDOWN_GRACE_MS / 2
    const finished = await Promise.race([stopping.then(() => true), sleep(Math.max(0, returnAt - Date.now()), false)])
    if (!finished) {
      log.info({ chunks: [...local.values()].reduce((sum, set) => sum + set.size, 0) }, 'handing running job chunks back to the queue')
      returning = true
      worker.cancelAllJobs('shutdown')
      await stopping
    }
    await queue.close()
    for (const redis of [subscriber, workerConnection, commands]) await redis.quit().catch(() => {})
  }
  return {
    backend: 'redis',
    tasks,
    queues: [queue],
    idempotency: guardedKeys(redisIdempotencyKeys(commands), guarded),
    submit: (request, caller, options) => guarded(async () => {
      if (stopping !== undefined) throw new ShuttingDownError()
      return await submit(request, caller, options)
    }),
    get: (id, caller) => guarded(async () => {
      const record = await read(id)
      return record !== undefined && visibleTo(record, caller) ? toDocument(record) : undefined
    }),
    cancel: (id, caller) => guarded(async () => {
      const record = await read(id)
      if (record === undefined || !visibleTo(record, caller)) return undefined
      if (!isActive(record.status)) return toDocument(record)
      const bitmap = await commands.getBuffer(keysOf(id).done) ?? Buffer.alloc(0)
      if (await endJob(id, 'cancelled')) await removeQueuedChunks(id, record.chunks, bitmap)
      const now = await read(id)
      return toDocument(now ?? record)
    }),
    remove: (id, caller) => guarded(() => removeFinished(commands, id, caller)),
    list: (caller, query) => guarded(() => listJobs(commands, caller, query)),
    watch: (id, listener) => notifier.watch(id, listener),
    activeCount: () => guarded(() => commands.scard(ACTIVE)),
    on: (listener) => notifier.on(listener),
    async stop () {
      stoppedAt = Date.now()
      // Takes no more chunks from here on; resolves once the ones running here have finished.
      stopping = worker.close()
      notifier.closing()
    },
    async close () {
      // Every step below talks to Redis; with Redis gone none of them would ever settle.
      const graceful = commands.status === 'ready' && await Promise.race([
        closeInOrder().then(() => true, () => true),
        sleep(config.SHUTDOWN_GRACE_MS, false)
      ])
      if (!graceful) log.warn('Redis is unreachable: dropping job connections without handing chunks back')
      clearInterval(sweep)
      clearInterval(orphans)
      for (const redis of [subscriber, workerConnection, commands]) redis.disconnect()
    }
  }
}
