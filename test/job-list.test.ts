import { createHash } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createdOf } from '../src/jobs/redis-records.js'
import { JOB_MODES, jobApp, LONG_JOB, type JobApp } from './support/job-app.js'

const KEY_A = 'list-test-key-alpha-0123456789'
const KEY_B = 'list-test-key-bravo-0123456789'
const a = { authorization: `Bearer ${KEY_A}` }
const b = { authorization: `Bearer ${KEY_B}` }
/** Finished at birth (no work): a job that takes no thread. */
const EMPTY = { task: 'sum-of-squares', input: { start: 0, end: 0 } }
const MAX_STORED_PER_KEY = 150

interface Summary { id: string, status: string, createdAt: string, input?: unknown }
interface Page { jobs: Summary[], nextPageToken?: string }

/** The list's order: newest first, then by id (descending) within a millisecond. */
const listOrder = (docs: Summary[]) => [...docs].sort((x, y) => y.createdAt.localeCompare(x.createdAt) || y.id.localeCompare(x.id)).map((doc) => doc.id)

describe.each(JOB_MODES)('GET /v1/jobs (%s)', (mode) => {
  let jobs: JobApp
  let admin: Redis | undefined
  beforeAll(async () => {
    jobs = await jobApp(mode, { API_KEYS: `${KEY_A},${KEY_B}`, JOB_CHUNK_TERMS: '1000000000', JOBS_MAX_STORED_PER_KEY: String(MAX_STORED_PER_KEY), JOB_TTL_S: '600' })
    if (jobs.redis !== undefined) admin = new Redis(jobs.redis.url)
  }, 30_000)
  afterAll(async () => {
    admin?.disconnect()
    await jobs?.close()
  })

  const list = async (headers: Record<string, string>, query = '') => {
    const response = await jobs.inject({ method: 'GET', url: `/v1/jobs${query}`, headers })
    expect(response.status, JSON.stringify(response.body)).toBe(200)
    return response.body as Page
  }
  /** Every page in turn, following nextPageToken. */
  const allPages = async (headers: Record<string, string>, query: string) => {
    const pages: Page[] = []
    let token: string | undefined
    do {
      pages.push(await list(headers, `${query}${token === undefined ? '' : `&pageToken=${token}`}`))
      token = pages.at(-1)!.nextPageToken
    } while (token !== undefined)
    return pages
  }
  const clear = async (headers: Record<string, string>) => {
    for (const job of (await list(headers, '?pageSize=100')).jobs) {
      await jobs.cancel(job.id, headers)
      await jobs.remove(job.id, headers)
    }
  }

  it('lists only the caller\'s key\'s jobs, newest first, without their input', async () => {
    const mine: Summary[] = []
    for (let i = 0; i < 4; i++) mine.push((await jobs.submit({ task: 'sum-of-squares', input: { start: 0, end: i } }, a)).body)
    const theirs = (await jobs.submit(EMPTY, b)).body
    const page = await list(a)
    expect(page.jobs.map((job) => job.id)).toEqual(listOrder(mine))
    expect(page.jobs.every((job) => job.input === undefined)).toBe(true)
    expect(page.nextPageToken).toBeUndefined()
    expect((await list(b)).jobs.map((job) => job.id)).toEqual([theirs.id])
    await clear(a)
    await clear(b)
  })

  it('filters by status', async () => {
    const running = (await jobs.submit(LONG_JOB, a)).body
    const done = [(await jobs.submit(EMPTY, a)).body, (await jobs.submit(EMPTY, a)).body]
    expect((await list(a, '?status=succeeded')).jobs.map((job) => job.id)).toEqual(listOrder(done))
    const active = [...(await list(a, '?status=queued')).jobs, ...(await list(a, '?status=running')).jobs]
    expect(active.map((job) => job.id)).toEqual([running.id])
    await jobs.cancel(running.id, a)
    expect((await list(a, '?status=cancelled')).jobs.map((job) => job.id)).toEqual([running.id])
    expect((await list(a, '?status=running')).jobs).toEqual([])
    await clear(a)
  })

  it('pages with pageSize and an opaque nextPageToken: every job once, in order, and no token on the last page', async () => {
    const submitted: Summary[] = []
    for (let i = 0; i < 5; i++) submitted.push((await jobs.submit(EMPTY, a)).body)
    const pages = await allPages(a, '?pageSize=2')
    expect(pages.map((page) => page.jobs.length)).toEqual([2, 2, 1])
    expect(pages.flatMap((page) => page.jobs.map((job) => job.id))).toEqual(listOrder(submitted))
    // The same filter, filtered pages: a page holds pageSize matches, whatever lies between them.
    const filtered = await allPages(a, '?pageSize=3&status=succeeded')
    expect(filtered.map((page) => page.jobs.length)).toEqual([3, 2])
    await clear(a)
  })

  it('answers 400 to a token used with another status, or made up', async () => {
    for (let i = 0; i < 3; i++) await jobs.submit(EMPTY, a)
    const { nextPageToken } = await list(a, '?pageSize=1')
    expect(nextPageToken).toEqual(expect.any(String))
    for (const query of [`?pageToken=${nextPageToken}&status=failed`, '?pageToken=bm90LWEtdG9rZW4']) {
      const refused = await jobs.inject({ method: 'GET', url: `/v1/jobs${query}`, headers: a })
      expect(refused.status).toBe(400)
      expect(refused.body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/pageToken/) })
    }
    expect((await jobs.inject({ method: 'GET', url: '/v1/jobs?pageSize=-1', headers: a })).status).toBe(400)
    await clear(a)
  })

  it(`lowers a pageSize past 100 to 100, and keeps at most JOBS_MAX_STORED_PER_KEY (${MAX_STORED_PER_KEY}) finished jobs listed`, async () => {
    for (let i = 0; i < MAX_STORED_PER_KEY + 20; i++) await jobs.submit(EMPTY, a)
    // Evicted jobs leave the client's set in the script that evicts them (before any list reads it).
    if (admin !== undefined) expect(await admin.zcard(createdOf(`key:${digest(KEY_A)}`))).toBe(MAX_STORED_PER_KEY)
    const first = await list(a, '?pageSize=1000')
    expect(first.jobs).toHaveLength(100)
    const pages = await allPages(a, '?pageSize=100')
    expect(pages.flatMap((page) => page.jobs)).toHaveLength(MAX_STORED_PER_KEY)
    await clear(a)
  })

  it('forgets a deleted job', async () => {
    const { body: job } = await jobs.submit(EMPTY, a)
    await jobs.remove(job.id, a)
    expect((await list(a)).jobs.map((listed) => listed.id)).not.toContain(job.id)
    if (admin !== undefined) expect(await admin.zscore(createdOf(`key:${digest(KEY_A)}`), job.id)).toBeNull()
  })

  it.runIf(mode === 'redis')('keeps a client\'s set while it has an active job, and gives it JOB_TTL_S once none is', async () => {
    const key = createdOf(`key:${digest(KEY_B)}`)
    await jobs.submit(EMPTY, b)
    expect(await admin!.ttl(key)).toBeGreaterThan(0)
    const { body: job } = await jobs.submit(LONG_JOB, b)
    await jobs.submit(EMPTY, b)
    expect(await admin!.ttl(key)).toBe(-1)
    await jobs.cancel(job.id, b)
    expect(await admin!.ttl(key)).toBeGreaterThan(0)
    expect(await admin!.ttl(key)).toBeLessThanOrEqual(600)
  })
})

function digest (key: string): string {
  return createHash('sha256').update(key).digest('base64url').slice(0, 22)
}
