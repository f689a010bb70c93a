import { InvalidPageTokenError } from '../errors.js'
import { toDocument, type JobDocument, type JobRecord, type JobStatus } from './job-document.js'

/** AIP-158: a page holds at most MAX_PAGE_SIZE jobs; a larger pageSize is lowered to it, 0 or none is the default. */
export const DEFAULT_PAGE_SIZE = 20
export const MAX_PAGE_SIZE = 100

/** Where a page ends: the last job listed, in the list's order (newest first, then by id). */
export interface JobCursor {
  createdAt: number
  id: string
}

export interface JobListQuery {
  status?: JobStatus | undefined
  pageSize: number
  /** List only jobs after this one: the previous page's last. */
  after?: JobCursor | undefined
}

/** A job in a list: the document without its input, which may be up to a megabyte each (GET has it). */
export type JobSummary = Omit<JobDocument, 'input'>

export interface JobPage {
  jobs: JobSummary[]
  next?: JobCursor
}

/** Newest first; jobs created in the same millisecond by id, so the order is total and a cursor exact. */
export const newestFirst = (a: JobCursor, b: JobCursor) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/** True when `record` comes after `cursor` in the list's order. */
export const isAfter = (record: JobCursor, cursor: JobCursor | undefined) => cursor === undefined || newestFirst(cursor, record) < 0

export const summaryOf = (record: JobRecord, now = Date.now()): JobSummary => {
  const { input: _input, ...summary } = toDocument(record, now)
  return summary
}

/**
 * Collects a page from records in list order (those past the cursor): the matching ones up to
 * pageSize, and a cursor only when a further match exists, so the last page has no token (AIP-158).
 */
export async function pageOf (records: Iterable<JobRecord> | AsyncIterable<JobRecord>, query: JobListQuery): Promise<JobPage> {
  const jobs: JobRecord[] = []
  for await (const record of records) {
    if (!isAfter(record, query.after) || (query.status !== undefined && record.status !== query.status)) continue
    if (jobs.length === query.pageSize) {
      const last = jobs.at(-1)!
      return { jobs: jobs.map((job) => summaryOf(job)), next: { createdAt: last.createdAt, id: last.id } }
    }
    jobs.push(record)
  }
  return { jobs: jobs.map((job) => summaryOf(job)) }
}

/**
 * The opaque nextPageToken: the cursor and the filter it was made under, base64url. A token used
 * with another filter, or tampered with, is a 400 (AIP-158: the other parameters must not change).
 */
export function pageToken (cursor: JobCursor, status: JobStatus | undefined): string {
  return Buffer.from(JSON.stringify([1, cursor.createdAt, cursor.id, status ?? ''])).toString('base64url')
}

export function cursorOf (token: string | undefined, status: JobStatus | undefined): JobCursor | undefined {
  if (token === undefined || token === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidPageTokenError()
  }
  if (!Array.isArray(parsed) || parsed.length !== 4) throw new InvalidPageTokenError()
  const [version, createdAt, id, filter] = parsed as unknown[]
  if (version !== 1 || !Number.isSafeInteger(createdAt) || typeof id !== 'string' || filter !== (status ?? '')) throw new InvalidPageTokenError()
  return { createdAt: createdAt as number, id }
}
