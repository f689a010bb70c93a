import { Writable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { numberArray } from '../src/uploads/number-array.js'
import type { ComputeRoute } from '../src/plugins/compute-scope.js'
import { buildTestApp, json } from './helper.js'

/** A route whose schema lets zod report one issue per bad item, as any plain zod array would. */
const plainZodArray: ComputeRoute = async (app) => {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/plain', { schema: { body: z.array(z.number()) } }, async () => ({ ok: true }))
}

/** `{"values":[[],[],...]}`: one invalid item per array slot, the amplification attack of issue 10. */
const arraysOfArrays = (items: number) => `{"values":[${new Array(items).fill('[]').join(',')}]}`

describe('validation errors, however many the body holds', () => {
  let app: FastifyInstance
  const logLines: string[] = []
  beforeAll(async () => {
    const stream = new Writable({ write (chunk, _encoding, done) { logLines.push(String(chunk)); done() } })
    app = await buildTestApp({}, { logger: { level: 'info', stream }, computeRoutes: [plainZodArray] })
  })
  afterAll(async () => { await app.close() })
  const post = (url: string, payload: string) => app.inject({ method: 'POST', url, headers: json, payload })

  it('answers a 1 MiB body of 349,521 bad items with the first 10 issues and a count of the rest, in a few KiB', async () => {
    const body = arraysOfArrays(349_521)
    expect(body.length).toBeLessThanOrEqual(1024 * 1024)
    const response = await post('/v1/sum', body)
    expect(response.statusCode).toBe(400)
    expect(response.body.length).toBeLessThan(4096)
    const answer = response.json()
    expect(answer.issues).toHaveLength(10)
    expect(answer.issues[0]).toEqual({ path: 'body.values.0', message: 'Invalid input: expected number, received array' })
    expect(answer.issues[9].path).toBe('body.values.9')
    expect(answer.moreIssues).toBe(349_511)
    expect(answer.message).toMatch(/and 349518 more$/)
    const logged = logLines.filter((line) => line.includes('request failed validation'))
    expect(logged.length).toBeGreaterThan(0)
    for (const line of logged) expect(line.length).toBeLessThan(4096)
  })

  it('lists 10 of zod\'s own issues and counts the rest, whatever schema produced them', async () => {
    const response = await post('/v1/plain', JSON.stringify(new Array(5000).fill('x')))
    expect(response.statusCode).toBe(400)
    expect(response.body.length).toBeLessThan(4096)
    expect(response.json()).toMatchObject({ moreIssues: 4990, issues: expect.arrayContaining([{ path: 'body.9', message: expect.any(String) }]) })
    expect(response.json().issues).toHaveLength(10)
  })

  it('checks a big numeric array without an issue per bad item', () => {
    const result = numberArray().safeParse(new Array(349_521).fill([]))
    expect(result.error?.issues).toHaveLength(11)
    expect(result.error?.issues[10]).toMatchObject({ path: [], params: { omitted: 349_511 } })
    expect(numberArray().safeParse([1, -0, 5e-324, 1.7e308]).success).toBe(true)
  })

  it('names each bad item of a short list, as zod would', async () => {
    const response = await post('/v1/sum', '{"values":[1,"2",null,3,true,{},1e999]}')
    expect(response.json().issues).toEqual([
      { path: 'body.values.1', message: 'Invalid input: expected number, received string' },
      { path: 'body.values.2', message: 'Invalid input: expected number, received null' },
      { path: 'body.values.4', message: 'Invalid input: expected number, received boolean' },
      { path: 'body.values.5', message: 'Invalid input: expected number, received object' },
      { path: 'body.values.6', message: 'Invalid input: expected number, received Infinity' }
    ])
    expect(response.json().moreIssues).toBeUndefined()
  })

  it('bounds an issue that lists 60,000 unknown keys, and a message that echoes a long value', async () => {
    const keys = Array.from({ length: 60_000 }, (_, i) => `"k${i}":0`).join(',')
    const unknownKeys = await post('/v1/sum-of-squares', `{"end":5,${keys}}`)
    expect(unknownKeys.statusCode).toBe(400)
    expect(unknownKeys.body.length).toBeLessThan(4096)
    const longType = await app.inject({ method: 'POST', url: '/v1/sum', headers: { 'content-type': `application/${'x'.repeat(8000)}` }, payload: '1' })
    expect(longType.statusCode).toBe(415)
    expect(longType.body.length).toBeLessThan(1024)
  })

  it('keeps answering with zod\'s issues for the rest of the body, counted the same way', async () => {
    const response = await post('/v1/sum-of-squares', '{"start":"a","end":"b","chunks":"c"}')
    expect(response.json().issues.map((issue: { path: string }) => issue.path)).toEqual(['body.start', 'body.end', 'body.chunks'])
  })
})
