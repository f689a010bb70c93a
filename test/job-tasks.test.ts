import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signedZeroJson } from '../src/http/signed-zero-json.js'
import { buildTestApp, json } from './helper.js'
import { until } from './support/jobs.js'
import { startRedis, type RedisServer } from './support/redis-server.js'

/** Inputs whose chunks (3 units each) carry exactness across them: a float64 loop gets every one wrong. */
const cases = [
  { task: 'sum-of-squares', input: { start: -3, end: 20 } },
  { task: 'sum', input: { values: [1e308, 0.1, 1e308, -1e308, 0.2, -1e308, 0.3, 1e-300, 5] } },
  { task: 'dot', input: { x: [1e200, 3, 1e200, 0.1, 7, -2, 1e-160], y: [1e200, 0.1, -1e200, 3, 7, 0.5, 1e-160] } },
  { task: 'stats', input: { values: [1e16, 1e16 + 2, 1e16 + 4, 1e16 + 6, 1e16 + 8, 1e16 + 10, 1e16 + 12] } },
  // Signed zeros: the input is stored and the result answered with the client's -0, as the route answers it.
  { task: 'stats', input: { values: [-0, -0, -0, -0] } }
]

/** The route's answer without what describes one request's run: what a job's result must equal. */
const withoutRunFields = ({ chunks: _chunks, elapsedMs: _elapsedMs, ...answer }: Record<string, unknown>) => answer

describe.each(['embedded', 'redis'] as const)('a job of each task answers what its route answers (%s)', (mode) => {
  let redis: RedisServer | undefined
  let app: FastifyInstance

  beforeAll(async () => {
    if (mode === 'redis') redis = await startRedis()
    app = await buildTestApp({
      JOB_CHUNK_TERMS: '3',
      JOB_MAX_TERMS: '1000000',
      ...(redis === undefined ? {} : { REDIS_URL: redis.url })
    })
  }, 30_000)
  afterAll(async () => {
    await app?.close()
    await redis?.stop()
  })

  const finished = async (id: string) => until(async () => {
    const document = (await app.inject({ method: 'GET', url: `/v1/jobs/${id}` })).json()
    return ['queued', 'running'].includes(document.status) ? undefined : document
  }, 20_000)

  const submit = async (task: string, input: unknown) => {
    const response = await app.inject({ method: 'POST', url: '/v1/jobs', headers: json, payload: signedZeroJson({ task, input }) })
    expect(response.statusCode, response.body).toBe(202)
    return response.json()
  }

  it.each(cases)('$task: the job result is the route\'s answer, over chunks of 3 units', async ({ task, input }) => {
    const route = await app.inject({ method: 'POST', url: `/v1/${task}`, headers: json, payload: signedZeroJson(input) })
    expect(route.statusCode).toBe(200)
    const submitted = await submit(task, input)
    expect(submitted).toMatchObject({ task, input })
    const done = await finished(submitted.id)
    expect(done).toMatchObject({ status: 'succeeded', progress: { done: submitted.progress.total, fraction: 1 } })
    // sum-of-squares keeps its job contract: the decimal string alone.
    expect(done.result).toEqual(task === 'sum-of-squares' ? route.json().result : withoutRunFields(route.json()))
  })

  it('fails a job with the 422 its route answers when the merged result is past float64', async () => {
    const input = { values: [1e308, 1e308, 1e308, 1e308] }
    const route = await app.inject({ method: 'POST', url: '/v1/sum', headers: json, payload: input })
    expect(route.statusCode).toBe(422)
    const done = await finished((await submit('sum', input)).id)
    expect(done).toMatchObject({ status: 'failed', error: { statusCode: 422, message: route.json().message } })
  })

  it('answers an empty input at once, with the merge of no chunks', async () => {
    const route = await app.inject({ method: 'POST', url: '/v1/stats', headers: json, payload: { values: [] } })
    const submitted = await submit('stats', { values: [] })
    expect(submitted).toMatchObject({ status: 'succeeded', result: withoutRunFields(route.json()), progress: { total: 0, fraction: 1 } })
  })
})
