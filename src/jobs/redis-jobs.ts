import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../platform/config.js'
import { ShuttingDownError } from '../errors.js'
import { isActive, toDocument } from './job-document.js'
import { JobNotifier, visibleTo, type JobChange, type Jobs } from './jobs.js'
import { redisJobEndings } from './redis-job-endings.js'
import { StoredJobs } from './stored-jobs.js'
import type { JobsOptions } from './embedded-jobs.js'
import { connectJobStore } from './job-store-connections.js'
import { jobStoreGuard } from './job-store-errors.js'
import { createChunkQueue } from './redis-chunk-queue.js'
import { startChunkWorker } from './redis-chunk-worker.js'
import { startJobSweeps } from './redis-job-sweeps.js'
import { ACTIVE, CANCELLED, CHANGED, fromHash, keysOf } from './redis-records.js'
import { listJobs, removeFinished } from './redis-job-queries.js'
import { redisSubmit } from './redis-job-submit.js'
import { guardedKeys, redisIdempotencyKeys } from './idempotency-keys.js'
import { defineScripts } from './redis-scripts.js'

export interface RedisJobsOptions extends JobsOptions {
  config: JobsOptions['config'] & Pick<Config, 'JOB_LOCK_MS' | 'SHUTDOWN_GRACE_MS' | 'REDIS_COMMAND_TIMEOUT_MS'> & { REDIS_URL: string }
  /** A job queued this long without its first chunk in the queue lost it with its replica, and gets it again (tests shorten it). */
  orphanAfterMs?: number
}

/**
 * Jobs in Redis, their chunks in a BullMQ queue that every replica started with the same REDIS_URL
 * works on with its own pool. Its parts: the job document, a hash changed only by the scripts of
 * redis-scripts.ts; the chunk queue (redis-chunk-queue.ts) and this replica's worker on it
 * (redis-chunk-worker.ts); how jobs end (redis-job-endings.ts); the sweeps (redis-job-sweeps.ts).
 * Cancels and progress travel by pub/sub. Design: docs/jobs.md.
 */
export async function createRedisJobs ({ executor, tasks, config, log, orphanAfterMs = 30_000 }: RedisJobsOptions): Promise<Jobs> {
  const { commands, subscriber, workerConnection } = await connectJobStore(config, log)
  const scripts = defineScripts(commands)
  const notifier = new JobNotifier()
  const stored = new StoredJobs(commands, tasks)
  const chunks = createChunkQueue(commands)
  let stopping: Promise<void> | undefined
  let stoppedAt = 0

  const publish = (id: string, change: JobChange) => commands.publish(CHANGED, `${id} ${change}`)
  const guarded = jobStoreGuard(log, config.REDIS_COMMAND_TIMEOUT_MS)
  const read = async (id: string) => fromHash(await commands.hgetall(keysOf(id).job))
  const endings = redisJobEndings({ commands, scripts, notifier, publish, read, config, log })
  const submit = redisSubmit({ commands, scripts, notifier, tasks, config, queueFirstChunks: chunks.addFirst })
  const runner = startChunkWorker({ connection: workerConnection, scripts, chunks, stored, executor, notifier, endings, publish, config, log })

  await subscriber.subscribe(CHANGED, CANCELLED)
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === CANCELLED) return runner.abort(message, 'cancelled')
    const [id, change] = message.split(' ') as [string, JobChange]
    notifier.changed(id, change)
  })
  const stopSweeps = startJobSweeps({ commands, chunks, read, runningJobs: runner.runningJobs, abort: runner.abort, orphanAfterMs, log })

  async function closeInOrder () {
    stopping ??= runner.worker.close()
    const returnAt = stoppedAt + config.SHUTDOWN_GRACE_MS / 2
    const finished = await Promise.race([stopping.then(() => true), sleep(Math.max(0, returnAt - Date.now()), false)])
    if (!finished) {
      log.info({ chunks: runner.runningChunks() }, 'handing running job chunks back to the queue')
      runner.returnRunning()
      await stopping
    }
    await chunks.queue.close()
    for (const redis of [subscriber, workerConnection, commands]) await redis.quit().catch(() => {})
  }
  return {
    backend: 'redis',
    tasks,
    queues: [chunks.queue],
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
      if (await endings.endJob(id, 'cancelled')) await chunks.removeQueued(id, record.chunks, bitmap)
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
      stopping = runner.worker.close()
      notifier.closing()
    },
    async close () {
      // Every step below talks to Redis; with Redis gone none of them would ever settle.
      const graceful = commands.status === 'ready' && await Promise.race([
        closeInOrder().then(() => true, () => true),
        sleep(config.SHUTDOWN_GRACE_MS, false)
      ])
      if (!graceful) log.warn('Redis is unreachable: dropping job connections without handing chunks back')
      stopSweeps()
      for (const redis of [subscriber, workerConnection, commands]) redis.disconnect()
    }
  }
}
