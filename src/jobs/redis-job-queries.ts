import type { Redis } from 'ioredis'
import { isActive, toDocument, type JobRecord } from './job-document.js'
import { pageOf, type JobCursor, type JobListQuery, type JobPage } from './job-pages.js'
import { visibleTo, type JobCaller, type JobRemoval } from './jobs.js'
import { createdOf, FINISHED, finishedOf, fromHash, keysOf } from './redis-records.js'

/** Reads of the job store that change no job's state: what GET, DELETE and the list ask of Redis. */

/**
 * Removes a finished job: its hash and its place in the stored caps' sets. A finished job never
 * becomes active again, so reading its status first and deleting after cannot race a chunk.
 */
export async function removeFinished (commands: Redis, id: string, caller: JobCaller): Promise<JobRemoval | undefined> {
  const record = fromHash(await commands.hgetall(keysOf(id).job))
  if (record === undefined || !visibleTo(record, caller)) return undefined
  if (isActive(record.status)) return { outcome: 'active', document: toDocument(record) }
  await commands.multi().del(keysOf(id).job, ...(record.idempotencyKey === undefined ? [] : [record.idempotencyKey])).zrem(FINISHED, id).zrem(finishedOf(record.client), id).zrem(createdOf(record.client), id).exec()
  return { outcome: 'removed', document: toDocument(record) }
}

/** A job's fields as the list shows them: all but its input. */
const SUMMARY_FIELDS = ['id', 'task', 'status', 'owner', 'client', 'requestId', 'total', 'done', 'chunks', 'result', 'error', 'createdAt', 'startedAt', 'finishedAt']

/** The caller's page of its client's jobs, read from the client's set of ids by creation time. */
export async function listJobs (commands: Redis, caller: JobCaller, query: JobListQuery): Promise<JobPage> {
  const records = listed(commands, createdOf(caller.client), query.after, query.pageSize + 1)
  return await pageOf(filterVisible(records, caller), query)
}

async function * filterVisible (records: AsyncIterable<JobRecord>, caller: JobCaller) {
  for await (const record of records) if (visibleTo(record, caller)) yield record
}

/**
 * The set's jobs newest first from the cursor on, read `batch` at a time (one pipeline of HMGETs
 * each). Ids whose job has gone (expired, evicted) are dropped from the set once the read is over.
 */
async function * listed (commands: Redis, key: string, after: JobCursor | undefined, batch: number): AsyncGenerator<JobRecord> {
  const gone: string[] = []
  try {
    for (let offset = 0; ; offset += batch) {
      // Equal scores come in reverse order of id: the list's own order (job-pages.ts).
      const entries = await commands.zrevrangebyscore(key, after?.createdAt ?? '+inf', '-inf', 'LIMIT', offset, batch)
      const pipeline = commands.pipeline()
      for (const id of entries) pipeline.hmget(keysOf(id).job, ...SUMMARY_FIELDS)
      const replies = await pipeline.exec() ?? []
      for (const [index, [error, values]] of replies.entries()) {
        if (error !== null) throw error
        const fields = values as Array<string | null>
        const hash = Object.fromEntries(SUMMARY_FIELDS.flatMap((field, i) => fields[i] == null ? [] : [[field, fields[i]!]]))
        const record = fromHash(hash)
        if (record === undefined) gone.push(entries[index]!)
        else yield record
      }
      if (entries.length < batch) return
    }
  } finally {
    if (gone.length > 0) await commands.zrem(key, ...gone)
  }
}
