import { PassThrough } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { loadTasks, registry } from '../src/tasks/registry.js'
import { defineTask } from '../src/tasks/task.js'
import { tasks } from '../workers/tasks.js'
import { buildTestApp, json } from './helper.js'
import { until } from './support/until.js'

const KEY = 'alpha-key-0123456789abcdef'

/**
 * A throwaway task at a versioned path whose last segment names no task: it runs the fault
 * injector's spin kernel (in every worker's table) as task `test-fault`, at `/v2/spin`. Its
 * declaration says nothing of guards.
 */
const spinV2 = defineTask({
  name: 'test-fault',
  path: '/v2/spin',
  operationId: 'spinV2',
  summary: 'Keeps one thread busy for `ms` milliseconds',
  input: { json: () => z.strictObject({ ms: z.int().min(0).max(60_000), pad: z.string().optional() }).meta({ examples: [{ ms: 10 }] }) },
  read: ({ body }) => body as { ms: number },
  cost: ({ ms }) => ({ size: ms, minChunkSize: 1, unitsPerMs: 1, chunks: 1 }),
  split: ({ ms }, parts) => Array.from({ length: parts }, () => ({ kind: 'spin' as const, ms })),
  merge: (outcomes: Array<{ threadId: number }>) => outcomes.length,
  result: z.object({ spun: z.int(), chunks: z.int(), elapsedMs: z.number() }).meta({ examples: [{ spun: 1, chunks: 1, elapsedMs: 10.2 }] }),
  answer: (spun) => ({ spun })
})

const spin = (app: FastifyInstance, ms: number, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/v2/spin', headers: { ...json, ...headers }, payload: { ms } })

describe('a task declared at a versioned path, with no option', () => {
  let app: FastifyInstance
  afterEach(async () => { await app.close() })

  it('answers 401 without the API key and runs with it', async () => {
    app = await buildTestApp({ API_KEYS: KEY }, { tasks: [spinV2] })
    expect((await spin(app, 1)).statusCode).toBe(401)
    const served = await spin(app, 1, { authorization: `Bearer ${KEY}` })
    expect([served.statusCode, served.json()]).toEqual([200, { spun: 1, chunks: 1, elapsedMs: expect.any(Number) }])
  })

  it('answers 429 past RATE_LIMIT_MAX and 504 past its deadline', async () => {
    app = await buildTestApp({ RATE_LIMIT_MAX: '2' }, { tasks: [spinV2] })
    expect((await spin(app, 5000, { 'x-timeout-ms': '100' })).statusCode).toBe(504)
    expect((await spin(app, 1)).statusCode).toBe(200)
    expect((await spin(app, 1)).statusCode).toBe(429)
  })

  it('is admitted before its body is read: a large body is refused 503 by a full queue, unread', async () => {
    app = await buildTestApp({ POOL_THREADS: '1', POOL_MAX_QUEUE_MS: '5' }, { tasks: [spinV2] })
    const running = spin(app, 1500)
    const queued = spin(app, 10) // 10 ms of work waiting: past the 5 ms bound
    await until(() => app.executor.stats().queued === 1)
    const reserved = app.uploads.stats().reservedBytes

    // Declared large, and never sent: only a refusal before reading can answer it.
    const body = new PassThrough()
    const refused = await app.inject({
      method: 'POST',
      url: '/v2/spin',
      payload: body,
      headers: { ...json, 'content-length': String(256 * 1024), 'x-timeout-ms': '3000' }
    })
    body.destroy()
    expect([refused.statusCode, refused.json().message]).toEqual([503, expect.stringMatching(/capacity/)])
    // Not a byte of upload memory was reserved for it.
    expect(app.uploads.stats().reservedBytes).toBe(reserved)
    expect((await running).statusCode).toBe(200)
    expect((await queued).statusCode).toBe(200)
  })
})

describe('the task registry', () => {
  it('gives every declared task its line in the workers\' table, under its declaration\'s name', async () => {
    const declarations = await loadTasks()
    expect(declarations.map((task) => task.name)).toEqual(Object.keys(registry))
    for (const task of declarations) expect(tasks).toHaveProperty([task.name], registry[task.name as keyof typeof registry].kernel)
  })
})
