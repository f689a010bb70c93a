import { readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { allProblemTypes, PROBLEM_TYPE_BASE, problemTypeOf } from '../src/errors.js'
import { projectPath } from '../src/platform/paths.js'
import { errorExamples, storedErrorBody } from '../src/http/error-body.js'
import { JobSlotEstimate } from '../src/http/job-slot-estimate.js'
import type { JobsListener } from '../src/jobs/jobs.js'
import { buildTestApp, json } from './helper.js'
import { until } from './support/until.js'

const spin = (app: FastifyInstance, ms: number) =>
  app.inject({ method: 'POST', url: '/v1/test-fault', headers: json, payload: { kind: 'spin', ms } })

describe('problem details (RFC 9457)', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => { await app?.close() })

  it('answers a known path asked with another method 405, with Allow, as a problem', async () => {
    app = await buildTestApp()
    const wrong = await app.inject({ method: 'GET', url: '/v1/sum-of-squares' })
    expect([wrong.statusCode, wrong.headers.allow, wrong.headers['content-type']]).toEqual([405, 'POST', 'application/problem+json; charset=utf-8'])
    expect(wrong.json()).toMatchObject({ type: 'https://compute-service.dev/problems/method-not-allowed', status: 405, code: 'SVC_METHOD_NOT_ALLOWED', instance: '/v1/sum-of-squares' })
    // A path with a parameter matches its pattern; GET brings HEAD.
    const job = await app.inject({ method: 'PUT', url: '/v1/jobs/f5fa3cb9-8768-48c5-ad11-27784c2536fd?x=1' })
    expect([job.statusCode, job.headers.allow]).toEqual([405, 'DELETE, GET, HEAD'])
    const unknown = await app.inject({ method: 'GET', url: '/v1/sum-of-squares/more' })
    expect([unknown.statusCode, unknown.headers.allow, unknown.json().code]).toEqual([404, undefined, 'SVC_ROUTE_NOT_FOUND'])
  })

  it('answers a URL that is not validly encoded 400 as a problem with Fastify\'s code and the request id', async () => {
    app = await buildTestApp()
    const bad = await app.inject({ method: 'GET', url: '/v1/jobs/%E0%A4%A' })
    expect([bad.statusCode, bad.headers['content-type']]).toEqual([400, 'application/problem+json; charset=utf-8'])
    expect(bad.json()).toMatchObject({ type: 'https://compute-service.dev/problems/bad-url', code: 'FST_ERR_BAD_URL', requestId: bad.headers['x-request-id'] })
  })

  it('answers a malformed JSON body with its own type and Fastify\'s code', async () => {
    app = await buildTestApp()
    const bad = await app.inject({ method: 'POST', url: '/v1/sum', headers: json, payload: '{"values": [1,' })
    expect(bad.json()).toMatchObject({ status: 400, type: 'https://compute-service.dev/problems/malformed-json', code: 'FST_ERR_CTP_INVALID_JSON_BODY' })
  })

  it('sends no Retry-After on shutdown: the balancer retries on another instance', async () => {
    app = await buildTestApp()
    app.drain()
    const ready = await app.inject({ method: 'GET', url: '/health/ready' })
    expect([ready.statusCode, ready.json().code, ready.headers['retry-after']]).toEqual([503, 'SVC_SHUTTING_DOWN', undefined])
  })

  it('estimates Retry-After of a full queue from the work waiting in it', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE_MS: '5', ENABLE_TEST_FAULTS: 'true' })
    const running = spin(app, 300)
    await until(() => app!.executor.stats().running === 1)
    // 1.6 s of estimated work waits for the one thread: past the 5 ms bound.
    const queued = spin(app, 1600)
    await until(() => app!.executor.stats().queued === 1)
    const refused = await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 100_000_000 } })
    expect([refused.statusCode, refused.json().code, refused.headers['retry-after']]).toEqual([503, 'SVC_QUEUE_FULL', '2'])
    await Promise.all([running, queued])
  })

  it('estimates Retry-After of a full job table, before any job has ended, as 30 s', async () => {
    app = await buildTestApp({ JOBS_MAX_ACTIVE: '1' })
    const long = await app.inject({ method: 'POST', url: '/v1/jobs', headers: json, payload: { task: 'sum-of-squares', input: { end: 10_000_000_000_000 } } })
    expect(long.statusCode).toBe(202)
    const refused = await app.inject({ method: 'POST', url: '/v1/jobs', headers: json, payload: { task: 'sum-of-squares', input: { end: 10 } } })
    expect([refused.statusCode, refused.json().code, refused.headers['retry-after']]).toEqual([503, 'SVC_TOO_MANY_JOBS', '30'])
    await app.inject({ method: 'DELETE', url: long.headers.location! })
  })
})

describe('the job slot estimate', () => {
  const jobsAt = () => {
    let listener: JobsListener = () => {}
    return { on: (next: JobsListener) => { listener = next; return () => {} }, end: () => { listener({ type: 'job-status', status: 'succeeded' }) } }
  }

  it('is the mean interval between the last endings, the time since the last one included, at least 1 s', () => {
    const jobs = jobsAt()
    let now = 1000
    const estimate = new JobSlotEstimate(jobs, () => now)
    expect(estimate.seconds()).toBe(30)
    jobs.end()
    expect(estimate.seconds()).toBe(1)
    now += 4000
    jobs.end()
    now += 16_000
    // Two endings, the first 20 s ago: a slot every 10 s.
    expect(estimate.seconds()).toBe(10)
    now += 10_000_000
    expect(estimate.seconds()).toBe(600)
  })
})

describe('the problem types', () => {
  it('are documented in docs/api.md, each with its name, status and code as src/errors.ts declares them', () => {
    const page = readFileSync(projectPath('docs/api.md'), 'utf8')
    const section = page.slice(page.indexOf('\n### Problem types\n'), page.indexOf('\n## ', page.indexOf('\n### Problem types\n')))
    const rows = [...section.matchAll(/^\| `([a-z0-9-]+)` \| (\d{3}) \| `(\w+)` \| \S/gm)].map((row) => `${row[3]} ${row[2]} ${PROBLEM_TYPE_BASE}${row[1]}`)
    expect(rows.sort()).toEqual(allProblemTypes().map((problem) => `${problem.code} ${problem.status} ${problem.type}`).sort())
  })

  it('upgrade an error a job stored before them (Redis keeps jobs across a deploy), and leave a new one as it is', () => {
    const legacy = { statusCode: 500, error: 'Internal Server Error', message: 'The job failed: a chunk failed 3 times', requestId: 'req-1' }
    expect(storedErrorBody(legacy)).toEqual({ type: 'about:blank', title: 'Internal Server Error', status: 500, detail: legacy.message, code: 'HTTP_500', ...legacy })
    const current = errorExamples[503]!
    expect(storedErrorBody(current)).toBe(current)
  })

  it('give the examples the type, title and status their code declares', () => {
    for (const example of Object.values(errorExamples)) {
      const problem = problemTypeOf(example.code)!
      expect(example, example.code).toMatchObject({ type: problem.type, title: problem.title, status: problem.status, statusCode: problem.status, message: example.detail })
    }
  })
})
