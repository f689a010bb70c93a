import type { FastifyBaseLogger } from 'fastify'
import type { Redis } from 'ioredis'
import type { JobRecord } from './job-document.js'
import type { ChunkQueue } from './redis-chunk-queue.js'
import { ACTIVE, keysOf } from './redis-records.js'

export interface JobSweepsOptions {
  commands: Redis
  chunks: ChunkQueue
  read(id: string): Promise<JobRecord | undefined>
  /** Jobs with a chunk running on this replica, and how to abort them. */
  runningJobs(): string[]
  abort(id: string, reason: string): void
  /** A job queued this long without its first chunk in the queue lost it with its replica. */
  orphanAfterMs: number
  log: FastifyBaseLogger
}

/**
 * What each replica checks on a timer, for what a message or a replica lost: chunks of a job that
 * ended (a cancel message missed, pub/sub delivering at most once) stop within a second; jobs whose
 * replica died between creating them and queueing their chunks get their first chunks queued again.
 */
export function startJobSweeps ({ commands, chunks, read, runningJobs, abort, orphanAfterMs, log }: JobSweepsOptions) {
  const cancelled = setInterval(() => {
    for (const id of runningJobs()) {
      commands.hget(keysOf(id).job, 'status').then((status) => {
        if (status !== 'running') abort(id, 'cancelled')
      }, () => {})
    }
  }, 1000).unref()

  // Safe from any replica, however often: a queued job has run no chunk, and chunk ids are deterministic.
  async function requeueOrphans () {
    for (const id of await commands.smembers(ACTIVE)) {
      const record = await read(id)
      if (record?.status !== 'queued' || Date.now() - record.createdAt < orphanAfterMs) continue
      if (await chunks.hasFirst(id)) continue
      log.warn({ job: id }, 'queueing the first chunks of a job whose replica stopped before it could')
      await chunks.addFirst(id, record.task, record.chunks)
    }
  }
  const orphans = setInterval(() => {
    requeueOrphans().catch((error: unknown) => log.warn({ err: error }, 'could not look for orphaned jobs'))
  }, orphanAfterMs / 2).unref()

  return () => {
    clearInterval(cancelled)
    clearInterval(orphans)
  }
}
