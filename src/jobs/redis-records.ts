import { errorBodyOf, storedErrorBody } from '../http/error-body.js'
import { signedZeroJson } from '../http/signed-zero-json.js'
import { JobStoreFullFailureError } from '../errors.js'
import type { JobRecord, JobStatus } from './job-document.js'

/** A job's hash is JOB_KEY + its id (the stored-job scripts name the hashes they evict so). */
export const JOB_KEY = 'compute:job:'
/** Where a job lives in Redis: its document (a hash), its bitmap of counted chunks, their partial results (job-partials.ts), and a binary input. */
export const keysOf = (id: string) => ({ job: `${JOB_KEY}${id}`, done: `${JOB_KEY}${id}:done`, partials: `${JOB_KEY}${id}:partials`, input: `${JOB_KEY}${id}${INPUT_SUFFIX}` })
/** A binary input's bytes (redis-binary-input.ts): the scripts that end a job delete the hash's key + this. */
export const INPUT_SUFFIX = ':input'
/** Ids of queued and running jobs: its size is what JOBS_MAX_ACTIVE bounds. */
export const ACTIVE = 'compute:jobs:active'
/** Ids of finished jobs, scored by finish time: its size is what JOBS_MAX_STORED bounds. */
export const FINISHED = 'compute:jobs:finished'
/** A client's active job ids (JOBS_MAX_ACTIVE_PER_KEY) and finished job ids (JOBS_MAX_STORED_PER_KEY): the set's key + ':' + client. */
export const activeOf = (client: string) => `${ACTIVE}:${client}`
export const finishedOf = (client: string) => `${FINISHED}:${client}`
/**
 * A client's job ids, active and finished, scored by creation time: the list (GET /v1/jobs). The
 * set's key + ':' + client; it expires JOB_TTL_S after the client's last job ended, with the jobs.
 */
export const CREATED = 'compute:jobs:created'
export const createdOf = (client: string) => `${CREATED}:${client}`
/** Pub/sub: `<id> status` or `<id> progress` when a job may have changed. */
export const CHANGED = 'compute:jobs:changed'
/** Pub/sub: the id of a job just cancelled or failed, whose running chunks every replica aborts. */
export const CANCELLED = 'compute:jobs:cancelled'

/** A new job's hash fields, as HSET takes them; `chunksDone` is the chunk-done script's. */
export function toHash (record: JobRecord): string[] {
  const fields: Record<string, string | number | undefined> = {
    id: record.id,
    task: record.task,
    input: signedZeroJson(record.input),
    status: record.status,
    owner: record.owner,
    client: record.client,
    requestId: record.requestId,
    idempotencyKey: record.idempotencyKey,
    total: record.total,
    done: record.done,
    chunks: record.chunks,
    chunksDone: 0,
    binary: record.binary === undefined ? undefined : 1,
    result: record.result === undefined ? undefined : signedZeroJson(record.result),
    createdAt: record.createdAt,
    finishedAt: record.finishedAt
  }
  return Object.entries(fields).flatMap(([field, value]) => value === undefined ? [] : [field, String(value)])
}

/** The record in a job's hash; undefined for an empty hash (no such job, or expired). */
export function fromHash (hash: Record<string, string>): JobRecord | undefined {
  if (hash.id === undefined) return undefined
  const record: JobRecord = {
    id: hash.id,
    task: hash.task as JobRecord['task'],
    // The list reads a job without its input (redis-job-queries.ts).
    input: hash.input === undefined ? undefined : JSON.parse(hash.input),
    // No status: the job was ended while Redis was full, which lets fields be removed but not written (redis-full-job.ts).
    status: hash.status === undefined ? 'failed' : hash.status as JobStatus,
    requestId: hash.requestId!,
    client: hash.client ?? '',
    total: Number(hash.total),
    done: Number(hash.done),
    chunks: Number(hash.chunks),
    createdAt: Number(hash.createdAt)
  }
  if (hash.owner !== undefined) record.owner = hash.owner
  if (hash.idempotencyKey !== undefined) record.idempotencyKey = hash.idempotencyKey
  if (hash.result !== undefined) record.result = JSON.parse(hash.result)
  if (hash.error !== undefined) record.error = storedErrorBody(JSON.parse(hash.error))
  if (hash.status === undefined) record.error = errorBodyOf(new JobStoreFullFailureError(), record.requestId)
  if (hash.startedAt !== undefined) record.startedAt = Number(hash.startedAt)
  if (hash.finishedAt !== undefined) record.finishedAt = Number(hash.finishedAt)
  return record
}

/** Bit `index` of a Redis bitmap (bit 0 is the high bit of the first byte). */
export const bitOf = (bitmap: Buffer, index: number) => ((bitmap[index >> 3] ?? 0) >> (7 - (index & 7))) & 1
