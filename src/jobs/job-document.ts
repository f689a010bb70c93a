import { z } from 'zod'
import { errorBody, type ErrorBody } from '../http/error-body.js'
import type { JobTasks } from './job-tasks.js'

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type JobStatus = typeof JOB_STATUSES[number]
export const isActive = (status: JobStatus) => status === 'queued' || status === 'running'

/** What a job is asked to compute: a declared task and its input, as its job schema checked it (job-tasks.ts). */
export interface JobRequest {
  task: string
  /** The JSON input; for a binary one, what the document shows of it (job-binary-input.ts). */
  input: unknown
  /** A binary input's values (application/octet-stream), in the task's layout. */
  binary?: Float64Array<SharedArrayBuffer> | undefined
  /**
   * The upload budget's reservation of those values: the back end releases it once it no longer
   * holds them in this process (embedded: when the job ends; Redis: once they are stored).
   */
  held?: { release(): void } | undefined
}

/** A job as both back ends keep it; times in epoch milliseconds. */
export interface JobRecord extends JobRequest {
  id: string
  status: JobStatus
  /** Digest of the API key that created it, when API_KEYS is set. */
  owner?: string
  /** The client whose share it counts against: `key:<digest>` or `ip:<address>` (client-identity.ts). */
  client: string
  /** The POST's request id, for the error shape. */
  requestId: string
  /** Where its Idempotency-Key is kept (idempotency-keys.ts): the key goes with the job. */
  idempotencyKey?: string
  /** Units of work in all, and units whose chunk has finished. */
  total: number
  done: number
  chunks: number
  /** The task's answer, as its job document shows it (job-tasks.ts). */
  result?: unknown
  error?: ErrorBody
  createdAt: number
  startedAt?: number
  finishedAt?: number
}

/** What a job document shows of a binary input: its bytes stay with the job, never echoed. */
export const binaryInputDocument = z.strictObject({
  contentType: z.literal('application/octet-stream'),
  bytes: z.int().describe('Its length: 8 bytes a value')
})

export const binaryInputOf = (values: Float64Array): z.output<typeof binaryInputDocument> => ({ contentType: 'application/octet-stream', bytes: values.byteLength })

/** The job document's schema, its `task`, `input` and `result` those of the declared tasks. */
export const jobDocument = (tasks: JobTasks) => z.object({
  id: z.uuid().describe('Random and unguessable (UUID v4, 122 random bits)'),
  task: z.enum([...tasks.keys()]).describe('The task, as its synchronous route runs it'),
  input: z.union([...[...tasks.values()].map((task) => task.input), binaryInputDocument])
    .describe('The task\'s input, as POST /v1/jobs took it; for a binary input, its size'),
  status: z.enum(JOB_STATUSES),
  progress: z.object({
    done: z.int().describe('Units of work (terms, values, pairs) whose chunk has finished; it only grows'),
    total: z.int(),
    fraction: z.number().describe('done / total, 0..1 (1 for an empty range)')
  }),
  result: z.union([...tasks.values()].map((task) => task.result)).optional()
    .describe('Once succeeded: what the task\'s route answers, without `chunks` and `elapsedMs` (unless its declaration says otherwise)'),
  error: errorBody.optional().describe('Once failed, or cancelled by a shutdown: why'),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().optional().describe('When its first chunk started'),
  finishedAt: z.iso.datetime().optional(),
  elapsedMs: z.number().optional().describe('From startedAt to finishedAt, or to now while it runs')
})

/** A job as a client sees it (the schema above, for any task). */
export interface JobDocument {
  id: string
  task: string
  input: unknown
  status: JobStatus
  progress: { done: number, total: number, fraction: number }
  result?: unknown
  error?: ErrorBody
  createdAt: string
  startedAt?: string
  finishedAt?: string
  elapsedMs?: number
}

const iso = (ms: number | undefined) => ms === undefined ? undefined : new Date(ms).toISOString()

/** The document a client sees, its fields in the schema's order. */
export function toDocument (record: JobRecord, now = Date.now()): JobDocument {
  return {
    id: record.id,
    task: record.task,
    input: record.input,
    status: record.status,
    progress: { done: record.done, total: record.total, fraction: record.total === 0 ? 1 : record.done / record.total },
    ...(record.result === undefined ? {} : { result: record.result }),
    ...(record.error === undefined ? {} : { error: record.error }),
    createdAt: iso(record.createdAt)!,
    ...(record.startedAt === undefined ? {} : { startedAt: iso(record.startedAt) }),
    ...(record.finishedAt === undefined ? {} : { finishedAt: iso(record.finishedAt) }),
    ...(record.startedAt === undefined ? {} : { elapsedMs: (record.finishedAt ?? now) - record.startedAt })
  }
}
