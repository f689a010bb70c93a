import { z } from 'zod'
import { JOB_STATUSES, type jobDocument } from './job-document.js'
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './job-pages.js'

/** GET /v1/jobs's query, as AIP-158 names it: a pageSize past the maximum is lowered to it, 0 means the default. */
export const jobListQuery = z.strictObject({
  status: z.enum(JOB_STATUSES).optional().describe('Only jobs in this status'),
  pageSize: z.coerce.number().int().min(0).default(0)
    .transform((size) => size === 0 ? DEFAULT_PAGE_SIZE : Math.min(size, MAX_PAGE_SIZE))
    .describe(`Most jobs on the page: ${DEFAULT_PAGE_SIZE} when 0 or absent, at most ${MAX_PAGE_SIZE} (a larger value is lowered to it)`),
  pageToken: z.string().max(512).optional().describe('The previous page\'s `nextPageToken`; absent for the first page')
})

/** A page of the list: each job's document without its input. */
export const jobList = (document: ReturnType<typeof jobDocument>) => z.object({
  jobs: z.array(document.omit({ input: true })).describe('Newest first'),
  nextPageToken: z.string().optional().describe('Opaque: pass it as `pageToken` for the next page; absent on the last page')
}).meta({
  examples: [{
    jobs: [{
      id: '0b5e3c1e-5a8f-4f7c-9a51-4e1e29f5c6a2',
      task: 'sum-of-squares',
      status: 'succeeded',
      progress: { done: 1_000_000_000, total: 1_000_000_000, fraction: 1 },
      result: '333333332833333333500000000',
      createdAt: '2026-11-27T18:00:00.000Z',
      startedAt: '2026-11-27T18:00:00.012Z',
      finishedAt: '2026-11-27T18:00:00.391Z',
      elapsedMs: 379
    }],
    nextPageToken: 'WzEsMTc2NDI2NjQwMDAwMCwiMGI1ZTNjMWUtNWE4Zi00ZjdjLTlhNTEtNGUxZTI5ZjVjNmEyIiwiIl0'
  }]
})
