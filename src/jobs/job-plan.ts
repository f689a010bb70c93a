import { randomUUID } from 'node:crypto'
import { nthRange, type Range } from '../compute/split-range.js'
import type { JobRecord, JobRequest } from './job-document.js'
import type { JobCaller } from './jobs.js'

/** Terms of work in a job. */
export const jobSize = (request: JobRequest) => request.input.end - request.input.start

/** Chunks of at most `chunkTerms` terms each, as even as splitRange makes them. */
export const chunkCount = (request: JobRequest, chunkTerms: number) => Math.ceil(jobSize(request) / chunkTerms)

/** The input of chunk `index` (0-based) of `chunks`: what the executor's task of the same name takes. */
export const chunkInput = (request: JobRequest, chunks: number, index: number): Range => nthRange(request.input, chunks, index)

/** A new job's record: queued, or already succeeded when its range is empty. */
export function newJobRecord (request: JobRequest, caller: JobCaller, chunkTerms: number, now = Date.now()): JobRecord {
  const chunks = chunkCount(request, chunkTerms)
  const record: JobRecord = {
    id: randomUUID(),
    task: request.task,
    input: { start: request.input.start, end: request.input.end },
    status: chunks === 0 ? 'succeeded' : 'queued',
    requestId: caller.requestId,
    client: caller.client,
    total: jobSize(request),
    done: 0,
    chunks,
    createdAt: now
  }
  if (caller.owner !== undefined) record.owner = caller.owner
  if (chunks === 0) Object.assign(record, { result: '0', finishedAt: now })
  return record
}
