import type { Redis } from 'ioredis'
import { isActive, toDocument } from './job-document.js'
import { visibleTo, type JobCaller, type JobRemoval } from './jobs.js'
import { FINISHED, finishedOf, fromHash, keysOf } from './redis-records.js'

/** Reads of the job store that change no job's state: what GET, DELETE and the list ask of Redis. */

/**
 * Removes a finished job: its hash and its place in the stored caps' sets. A finished job never
 * becomes active again, so reading its status first and deleting after cannot race a chunk.
 */
export async function removeFinished (commands: Redis, id: string, caller: JobCaller): Promise<JobRemoval | undefined> {
  const record = fromHash(await commands.hgetall(keysOf(id).job))
  if (record === undefined || !visibleTo(record, caller)) return undefined
  if (isActive(record.status)) return { outcome: 'active', document: toDocument(record) }
  await commands.multi().del(keysOf(id).job).zrem(FINISHED, id).zrem(finishedOf(record.client), id).exec()
  return { outcome: 'removed', document: toDocument(record) }
}
