import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedForm } from './support/closed-form.js'
import { deploy, jobClient, type Deployment, type JobDoc } from './support/jobs.js'

/**
 * The job contract on real processes, the same tests in both modes: embedded (one server), and Redis
 * (two replicas sharing one Redis, so a job submitted to one is read, followed and cancelled via the other).
 */
const KEY = 'jobs-test-key-alpha-0123456789'
const OTHER_KEY = 'jobs-test-key-bravo-0123456789'
const MAX_ACTIVE = 200
// Long enough that a finished job outlives the polls of 200 others on a loaded machine; the TTL's
// own test has a deployment of its own with a short one.
const TTL_S = 60
const SHORT_TTL_S = 2
// About 0.1-0.3 s per chunk here: jobs of a few chunks finish in about a second.
const CHUNK_TERMS = 200_000_000

for (const mode of ['embedded', 'redis'] as const) {
  describe(`jobs (${mode})`, () => {
    let deployment: Deployment
    const client = jobClient(KEY)
    const a = () => deployment.replicas[0]!
    // Another replica in Redis mode, the same one in embedded mode.
    const b = () => deployment.replicas.at(-1)!

    beforeAll(async () => {
      deployment = await deploy(mode, mode === 'redis' ? 2 : 1, {
        API_KEYS: `${KEY},${OTHER_KEY}`,
        JOB_CHUNK_TERMS: String(CHUNK_TERMS),
        JOBS_MAX_ACTIVE: String(MAX_ACTIVE),
        // Above the global cap, so that one key can reach it (the per-key cap has tests of its own: job-caps.test.ts).
        JOBS_MAX_ACTIVE_PER_KEY: String(MAX_ACTIVE + 1),
        JOB_TTL_S: String(TTL_S),
        JOB_MAX_TERMS: String(1e13),
        // 200 submits at once, then 200 pollers, from one address: on a loaded machine the client opens
        // a connection per request. The per-address cap has tests of its own (connection-limits, hostile-clients).
        MAX_CONNECTIONS_PER_CLIENT: '2048'
      })
    }, 60_000)
    afterAll(async () => { await deployment?.stop() })

    it('answers 202 with Location and the job document, and the job succeeds with the exact sum', async () => {
      const input = { start: -123_456_789, end: 476_543_211 }
      const submitted = await client.submit(a(), input)
      expect(submitted.status).toBe(202)
      expect(submitted.headers.get('location')).toBe(`/v1/jobs/${submitted.body.id}`)
      expect(submitted.body).toMatchObject({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        task: 'sum-of-squares',
        input,
        status: expect.stringMatching(/^(queued|running)$/),
        progress: { total: 600_000_000 },
        createdAt: expect.any(String)
      })
      const done = await client.finished(b(), submitted.body.id)
      expect(done).toMatchObject({
        status: 'succeeded',
        result: closedForm(input.start, input.end).toString(),
        progress: { done: 600_000_000, total: 600_000_000, fraction: 1 },
        startedAt: expect.any(String),
        finishedAt: expect.any(String),
        elapsedMs: expect.any(Number)
      })
    })

    it('validates the input as the synchronous route does, with JOB_MAX_TERMS as the limit, and answers errors in the one shape', async () => {
      const tooMany = await client.submit(a(), { end: 1e13 + 1 })
      expect(tooMany.status).toBe(400)
      expect(tooMany.body.message).toMatch(/body\.input\.end: end - start must be at most 10000000000000/)
      expect((await client.submit(a(), { start: 5, end: 4 })).status).toBe(400)
      expect((await client.submit(a(), { end: 10 }, 'sum')).status).toBe(400)
      expect((await client.get(a(), 'not-a-uuid')).status).toBe(400)
      const { body: job } = await client.submit(a(), { end: 10 })
      const json = await fetch(`${a().url}/v1/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${KEY}`, accept: 'application/json' } })
      expect(json.status).toBe(406)
      expect(json.headers.get('content-type')).toBe('application/problem+json; charset=utf-8')
      expect(await json.json()).toMatchObject({ status: 406, code: 'SVC_NOT_ACCEPTABLE', instance: `/v1/jobs/${job.id}/events`, statusCode: 406, error: 'Not Acceptable', requestId: expect.any(String) })
      const unknown = await client.get(a(), crypto.randomUUID())
      expect(unknown.status).toBe(404)
      expect(unknown.body).toEqual({
        type: 'https://compute-service.dev/problems/job-not-found',
        title: 'No such job',
        status: 404,
        detail: expect.stringMatching(/not found/),
        instance: expect.stringMatching(/^\/v1\/jobs\/[\w-]+$/),
        code: 'SVC_JOB_NOT_FOUND',
        requestId: expect.any(String),
        statusCode: 404,
        error: 'Not Found',
        message: unknown.body.detail
      })
    })

    it('streams progress at once and a final done event, and the stream outlives its request\'s deadline', async () => {
      const { body: job } = await client.submit(a(), { end: 7_200_000_000 })
      // The stream's own deadline, not the deployment's: a short REQUEST_TIMEOUT_MS would also cut
      // the other tests' uploads (408) when a loaded machine delivers their bodies late.
      const started = Date.now()
      const stream = await client.events(b(), job.id, undefined, { 'x-timeout-ms': '300' })
      const elapsed = Date.now() - started
      expect(stream.status).toBe(200)
      expect(elapsed).toBeGreaterThan(300)
      const names = stream.events.map((event) => event.event)
      expect(names[0]).toBe('progress')
      expect(names.at(-1)).toBe('done')
      expect(names.filter((name) => name === 'done')).toHaveLength(1)
      const documents = stream.events.map((event) => JSON.parse(event.data) as JobDoc)
      const done = documents.map((document) => document.progress.done)
      expect(done).toEqual([...done].sort((x, y) => x - y)) // done only grows
      expect(documents.at(-1)).toMatchObject({ status: 'succeeded', result: closedForm(0, 7_200_000_000).toString() })
      expect(documents.length).toBeGreaterThan(2) // progress while chunks finished
    })

    it(`takes ${MAX_ACTIVE} jobs submitted at once, and every one succeeds with its exact sum`, async () => {
      const inputs = Array.from({ length: MAX_ACTIVE }, (_, i) => ({ start: i * 1000, end: i * 1000 + 100_000 + i }))
      const answers = await Promise.all(inputs.map((input, i) => client.submit(i % 2 === 0 ? a() : b(), input)))
      expect(answers.map((answer) => answer.status)).toEqual(Array(MAX_ACTIVE).fill(202))
      const results = await Promise.all(answers.map(async (answer, i) => {
        const document = await client.finished(i % 2 === 0 ? b() : a(), answer.body.id)
        return document.result === closedForm(inputs[i]!.start, inputs[i]!.end).toString() ? 'exact' : JSON.stringify(document)
      }))
      expect(results).toEqual(Array(MAX_ACTIVE).fill('exact'))
    }, 60_000)

    it(`answers 503 with Retry-After while ${MAX_ACTIVE} jobs are queued or running`, async () => {
      // Sixteen chunks each: embedded, chunks of all jobs interleave (fewest started first); through Redis
      // they run in submission order, and the first job alone keeps the threads busy for about a second.
      const answers = await Promise.all(Array.from({ length: MAX_ACTIVE }, (_, i) => client.submit(i % 2 === 0 ? a() : b(), { end: 16 * CHUNK_TERMS })))
      expect(answers.map((answer) => answer.status)).toEqual(Array(MAX_ACTIVE).fill(202))
      const refused = await client.submit(b(), { end: 10 })
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toMatch(/^\d+$/)
      expect(refused.body).toMatchObject({ statusCode: 503, message: expect.stringMatching(new RegExp(`At most ${MAX_ACTIVE} jobs`)) })
      await Promise.all(answers.map((answer) => client.cancel(a(), answer.body.id)))
      expect((await client.submit(b(), { end: 10 })).status).toBe(202)
    }, 60_000)

    it('answers 404 once a finished job has been kept JOB_TTL_S seconds', async () => {
      const short = await deploy(mode, 1, { API_KEYS: KEY, JOB_TTL_S: String(SHORT_TTL_S) })
      try {
        const [server] = short.replicas
        const { body: job } = await client.submit(server!, { end: 1000 })
        expect((await client.finished(server!, job.id)).status).toBe('succeeded')
        await sleep(SHORT_TTL_S * 1000 + 500)
        expect((await client.get(server!, job.id)).status).toBe(404)
      } finally {
        await short.stop()
      }
    })

    it('shows a job only to the API key that created it: another key gets 404 everywhere', async () => {
      const { body: job } = await client.submit(a(), { end: 600_000_000 })
      const other = jobClient(OTHER_KEY)
      expect((await other.get(b(), job.id)).status).toBe(404)
      expect((await other.events(b(), job.id)).status).toBe(404)
      expect((await other.cancel(b(), job.id)).status).toBe(404)
      expect((await client.get(b(), job.id)).status).toBe(200)
      expect((await other.remove(b(), job.id)).status).toBe(404)
      expect((await client.finished(b(), job.id)).status).toBe('succeeded') // the other key's cancel and DELETE did nothing
      expect((await jobClient().get(b(), job.id)).status).toBe(401)
    })

    it('cancels an active job on POST .../cancel, and deleting the finished job removes it', async () => {
      const { body: job } = await client.submit(a(), { end: 5e12 })
      await client.finished(b(), job.id, 1000).catch(() => undefined) // let it start
      const cancelled = await client.cancel(b(), job.id)
      expect(cancelled.status).toBe(200)
      expect(cancelled.body).toMatchObject({ id: job.id, status: 'cancelled', finishedAt: expect.any(String) })
      const later = await client.get(a(), job.id)
      expect(later.body.status).toBe('cancelled')
      expect(later.body.progress.done).toBeLessThan(5e12)

      const removed = await client.remove(a(), job.id)
      expect(removed.status).toBe(200)
      expect(removed.body.status).toBe('cancelled')
      expect((await client.get(b(), job.id)).status).toBe(404)
    })
  })
}
