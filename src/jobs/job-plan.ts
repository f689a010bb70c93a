import { randomUUID } from 'node:crypto'
import { nthRange } from '../compute/split-range.js'
import type { JobRecord, JobRequest } from './job-document.js'
import type { JobTask } from './job-tasks.js'
import type { JobCaller, SubmitOptions } from './jobs.js'

/** Chunks of at most `chunkUnits` units of work each (JOB_CHUNK_TERMS), as even as splitRange makes them. */
export const chunkCount = (size: number, chunkUnits: number) => Math.ceil(size / chunkUnits)

/**
 * Units of work in chunk `index` of a job: what its progress grows by. The declarations split with
 * splitRange, so this is that chunk's share of the units, computed alone.
 */
export function chunkUnits (record: Pick<JobRecord, 'total' | 'chunks'>, index: number): number {
  const { start, end } = nthRange({ start: 0, end: record.total }, record.chunks, index)
  return end - start
}

/** A new job's record: queued, or already succeeded when its input holds no work. */
export function newJobRecord (task: JobTask, request: JobRequest, caller: JobCaller, chunkUnits: number, options: SubmitOptions = {}, now = Date.now()): JobRecord {
  const input = request.binary ?? request.input
  const total = task.size(input)
  const chunks = chunkCount(total, chunkUnits)
  const record: JobRecord = {
    id: randomUUID(),
    task: request.task,
    input: request.input,
    ...(request.binary === undefined ? {} : { binary: request.binary }),
    status: chunks === 0 ? 'succeeded' : 'queued',
    requestId: caller.requestId,
    client: caller.client,
    total,
    done: 0,
    chunks,
    createdAt: now
  }
  if (caller.owner !== undefined) record.owner = caller.owner
  if (options.idempotencyKey !== undefined) record.idempotencyKey = options.idempotencyKey
  // No work, no chunk: the task's merge of no partials is its answer (0 for an empty range).
  if (chunks === 0) Object.assign(record, { result: task.finish([], input), finishedAt: now, binary: undefined })
  return record
}
