import { z } from 'zod'
import { errorBody, type ErrorBody } from '../error-body.js'

export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const
export type JobStatus = typeof JOB_STATUSES[number]
export const isActive = (status: JobStatus) => status === 'queued' || status === 'running'

/** What a job is asked to compute: a task and its input, as the synchronous route takes it. */
export interface JobRequest {
  task: 'sum-of-squares'
  input: { start: number, end: number }
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
  /** Terms in all, and terms whose chunk has finished. */
  total: number
  done: number
  chunks: number
  result?: string
  error?: ErrorBody
  createdAt: number
  startedAt?: number
  finishedAt?: number
}

export const jobDocument = z.object({
  id: z.uuid().describe('Random and unguessable (UUID v4, 122 random bits)'),
  task: z.literal('sum-of-squares'),
  input: z.object({ start: z.int(), end: z.int() }),
  status: z.enum(JOB_STATUSES),
  progress: z.object({
    done: z.int().describe('Terms whose chunk has finished; it only grows'),
    total: z.int(),
    fraction: z.number().describe('done / total, 0..1 (1 for an empty range)')
  }),
  result: z.string().optional().describe('Once succeeded: the exact sum as a base-10 integer string, as the synchronous route returns it'),
  error: errorBody.optional().describe('Once failed, or cancelled by a shutdown: why'),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().optional().describe('When its first chunk started'),
  finishedAt: z.iso.datetime().optional(),
  elapsedMs: z.number().optional().describe('From startedAt to finishedAt, or to now while it runs')
}).meta({
  examples: [{
    id: '0b5e3c1e-5a8f-4f7c-9a51-4e1e29f5c6a2',
    task: 'sum-of-squares',
    input: { start: 0, end: 1_000_000_000_000 },
    status: 'running',
    progress: { done: 250_000_000_000, total: 1_000_000_000_000, fraction: 0.25 },
    createdAt: '2026-11-27T18:00:00.000Z',
    startedAt: '2026-11-27T18:00:00.012Z',
    elapsedMs: 125_310.5
  }]
})

export type JobDocument = z.output<typeof jobDocument>

const iso = (ms: number | undefined) => ms === undefined ? undefined : new Date(ms).toISOString()

/** The document a client sees, its fields in the schema's order. */
export function toDocument (record: JobRecord, now = Date.now()): JobDocument {
  return {
    id: record.id,
    task: record.task,
    input: { start: record.input.start, end: record.input.end },
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
