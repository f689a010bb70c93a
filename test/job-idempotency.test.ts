import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiKeyDigest } from '../src/clients/client-identity.js'
import { idempotencyName } from '../src/jobs/idempotency-keys.js'
import { jobFingerprint } from '../src/jobs/idempotent-submit.js'
import { JOB_MODES, jobApp, LONG_JOB, type JobApp } from './support/job-app.js'

const KEY_A = 'idem-test-key-alpha-0123456789'
const KEY_B = 'idem-test-key-bravo-0123456789'
const bearer = (key: string) => ({ authorization: `Bearer ${key}` })
const SMALL = { task: 'sum-of-squares', input: { start: 0, end: 1000 } }
const TTL_S = 600

describe.each(JOB_MODES)('Idempotency-Key on POST /v1/jobs (%s)', (mode) => {
  let jobs: JobApp
  let admin: Redis | undefined
  beforeAll(async () => {
    jobs = await jobApp(mode, { API_KEYS: `${KEY_A},${KEY_B}`, JOB_CHUNK_TERMS: '1000000000', JOBS_MAX_ACTIVE_PER_KEY: '2', JOB_TTL_S: String(TTL_S) })
    if (jobs.redis !== undefined) admin = new Redis(jobs.redis.url)
  }, 30_000)
  afterAll(async () => {
    admin?.disconnect()
    await jobs?.close()
  })

  const post = (body: unknown, key: string | undefined, apiKey = KEY_A) =>
    jobs.submit(body, { ...bearer(apiKey), ...(key === undefined ? {} : { 'idempotency-key': key }) })
  const listed = async (apiKey = KEY_A) => (await jobs.inject({ method: 'GET', url: '/v1/jobs?pageSize=100', headers: bearer(apiKey) })).body.jobs as Array<{ id: string }>
  const clear = async () => {
    for (const apiKey of [KEY_A, KEY_B]) {
      for (const job of await listed(apiKey)) {
        await jobs.cancel(job.id, bearer(apiKey))
        await jobs.remove(job.id, bearer(apiKey))
      }
    }
  }

  it('answers a retry of the same request with the same job: 202, the same id and Location, one job made', async () => {
    const first = await post(SMALL, '"retry-1"')
    const again = await post(SMALL, '"retry-1"')
    expect([first.status, again.status]).toEqual([202, 202])
    expect(again.body.id).toBe(first.body.id)
    expect(again.headers.location).toBe(first.headers.location)
    // The draft's Structured Field string, or the bare key many clients send: the same key.
    expect((await post(SMALL, 'retry-1')).body.id).toBe(first.body.id)
    expect((await listed()).map((job) => job.id)).toEqual([first.body.id])
    if (admin !== undefined) {
      const ttl = await admin.ttl(idempotencyName(`key:${apiKeyDigest(`Bearer ${KEY_A}`)}`, 'retry-1'))
      expect(ttl).toBeGreaterThan(0)
      expect(ttl).toBeLessThanOrEqual(TTL_S)
    }
    await clear()
  })

  it('answers 422 to the same key with another request, and leaves the first job alone', async () => {
    const first = await post(SMALL, 'reuse-1')
    const other = await post({ task: 'sum-of-squares', input: { start: 0, end: 1001 } }, 'reuse-1')
    expect(other.status).toBe(422)
    expect(other.body).toMatchObject({ statusCode: 422, message: expect.stringMatching(/different request/) })
    expect((await post({ task: 'sum', input: { values: [1] } }, 'reuse-1')).status).toBe(422)
    expect((await listed()).map((job) => job.id)).toEqual([first.body.id])
    await clear()
  })

  it('scopes keys to the API key: another key\'s same Idempotency-Key makes its own job', async () => {
    const mine = await post(SMALL, 'shared-name')
    const theirs = await post(SMALL, 'shared-name', KEY_B)
    expect(theirs.status).toBe(202)
    expect(theirs.body.id).not.toBe(mine.body.id)
    await clear()
  })

  it('answers 409 while a request with the same key is still being processed', async () => {
    const client = `key:${apiKeyDigest(`Bearer ${KEY_A}`)}`
    // Another request (on any replica) has claimed the key and is making its job.
    await jobs.app.jobs.idempotency.claim(idempotencyName(client, 'busy-1'), jobFingerprint(SMALL), 60_000)
    const busy = await post(SMALL, 'busy-1')
    expect(busy.status).toBe(409)
    expect(busy.body).toMatchObject({ statusCode: 409, message: expect.stringMatching(/still being processed/) })
    expect(await listed()).toEqual([])
  })

  it('frees the key of a refused job (429), so the retry makes the job once there is room', async () => {
    const held = [(await post(LONG_JOB, undefined)).body, (await post(LONG_JOB, undefined)).body]
    expect((await post(SMALL, 'after-429')).status).toBe(429)
    await jobs.cancel(held[0].id, bearer(KEY_A))
    const retried = await post(SMALL, 'after-429')
    expect(retried.status).toBe(202)
    expect((await post(SMALL, 'after-429')).body.id).toBe(retried.body.id)
    await clear()
  })

  it('frees the key with its job: after DELETE the same key makes a new job', async () => {
    const first = await post(SMALL, 'deleted-1')
    await jobs.finished(first.body.id, bearer(KEY_A))
    expect((await jobs.remove(first.body.id, bearer(KEY_A))).status).toBe(200)
    if (admin !== undefined) expect(await admin.exists(idempotencyName(`key:${apiKeyDigest(`Bearer ${KEY_A}`)}`, 'deleted-1'))).toBe(0)
    const second = await post(SMALL, 'deleted-1')
    expect(second.status).toBe(202)
    expect(second.body.id).not.toBe(first.body.id)
    await clear()
  })

  it('answers 400 to a malformed key', async () => {
    for (const key of ['', '""', 'x'.repeat(256), 'two words', '"unterminated']) {
      const refused = await post(SMALL, key)
      expect(refused.status, key).toBe(400)
      expect(refused.body.message, key).toMatch(/Idempotency-Key/)
    }
    expect(await listed()).toEqual([])
  })
})

describe.each(JOB_MODES)('an evicted job takes its Idempotency-Key with it (%s)', (mode) => {
  let jobs: JobApp
  beforeAll(async () => { jobs = await jobApp(mode, { JOBS_MAX_STORED_PER_KEY: '2' }) }, 30_000)
  afterAll(async () => { await jobs?.close() })

  it('frees the key of a job evicted past JOBS_MAX_STORED_PER_KEY, in the step that evicts it', async () => {
    const empty = { task: 'sum-of-squares', input: { start: 0, end: 0 } }
    const first = await jobs.submit(empty, { 'idempotency-key': 'evicted-1' })
    const name = idempotencyName('ip:127.0.0.1', 'evicted-1')
    const stillNamed = async () => (await jobs.app.jobs.idempotency.claim(name, jobFingerprint(empty), 60_000)).outcome
    expect(await stillNamed()).toBe('replay')
    for (let i = 0; i < 2; i++) await jobs.submit(empty)
    expect((await jobs.get(first.body.id)).status).toBe(404)
    // Free: a claim now takes it afresh (it is pending from here on, so a POST with it would get 409).
    expect(await stillNamed()).toBe('new')
  })
})
