import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHUNKS_AHEAD } from '../src/jobs/chunk-window.js'
import { CHUNK_QUEUE } from '../src/jobs/redis-chunk-queue.js'
import { QUEUE_BOARD_PATH } from '../src/plugins/queue-board.js'
import { buildTestApp } from './helper.js'
import { postJson } from './support/http.js'
import { LONG_JOB } from './support/job-app.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { freePort, startServer, type ServerProcess } from './support/server-process.js'
import { until } from './support/until.js'

/** What bull-board's API answers for one queue (the fields used here). */
interface BoardQueue {
  name: string
  isPaused: boolean
  readOnlyMode: boolean
  jobs: Array<{ id: string, data: { job: string, index: number } }>
}

let redis: RedisServer
beforeAll(async () => { redis = await startRedis() })
afterAll(async () => { await redis?.stop() })

describe('bull-board on the metrics port, with the Redis back end', () => {
  let server: ServerProcess
  let board: string
  let jobId: string
  beforeAll(async () => {
    const metricsPort = await freePort()
    server = await startServer({ REDIS_URL: redis.url, METRICS_PORT: String(metricsPort), POOL_THREADS: '2' })
    board = `http://127.0.0.1:${metricsPort}${QUEUE_BOARD_PATH}`
    const submitted = await postJson(`${server.url}/v1/jobs`, LONG_JOB)
    expect(submitted.status).toBe(202)
    jobId = submitted.body.id as string
  })
  afterAll(async () => { await server?.stop() })

  /** The chunk queue as bull-board's API shows it, with its jobs in `status`. */
  const chunkQueue = async (status = 'latest'): Promise<BoardQueue> => {
    const response = await fetch(`${board}/api/queues?activeQueue=${CHUNK_QUEUE}&status=${status}`)
    expect(response.status).toBe(200)
    const { queues } = await response.json() as { queues: BoardQueue[] }
    expect(queues.map((queue) => queue.name)).toEqual([CHUNK_QUEUE])
    return queues[0]!
  }

  it('serves the dashboard page at /admin/queues, and the stylesheet it names', async () => {
    const page = await fetch(board)
    expect(page.status).toBe(200)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await page.text()
    // Assets are named relative to this base: served elsewhere, the page would load without them.
    expect(html).toContain(`<base href="${QUEUE_BOARD_PATH}/" />`)
    const stylesheet = /href="(static\/css\/[^"]+\.css)"/.exec(html)?.[1]
    expect(stylesheet).toBeDefined()
    expect((await fetch(`${board}/${stylesheet}`)).status).toBe(200)
  })

  it('lists the chunk queue, with a chunk of the job submitted on the public port running', async () => {
    const running = await until(async () => (await chunkQueue('active')).jobs.find((chunk) => chunk.data.job === jobId))
    expect(running.id).toBe(`${jobId}.${running.data.index}`)
    // BullMQ marks a chunk active as a replica takes it, a step before the job's record says running.
    await until(async () => (await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json() as { status: string }).status === 'running')
  })

  it('is read-only: pausing, emptying or removing a chunk is refused, and the queue keeps its chunks', async () => {
    expect((await chunkQueue()).readOnlyMode).toBe(true)
    // The first window's last chunk: dozens run before it, so only a removal could take it away now.
    const last = `${jobId}.${CHUNKS_AHEAD - 1}`
    for (const action of ['pause', 'empty', `${last}/clean`]) {
      expect((await fetch(`${board}/api/queues/${CHUNK_QUEUE}/${action}`, { method: 'PUT' })).status, action).toBe(405)
    }
    // "Pause all" answers 200 but skips read-only queues.
    expect((await fetch(`${board}/api/queues/pause`, { method: 'PUT' })).status).toBe(200)
    expect((await chunkQueue()).isPaused).toBe(false)
    const kept = await fetch(`${board}/api/queues/${CHUNK_QUEUE}/${last}`)
    expect(kept.status).toBe(200)
    expect((await kept.json() as { status: string }).status).toBe('prioritized')
  })

  it('is not on the public port: 404 there', async () => {
    for (const path of [QUEUE_BOARD_PATH, `${QUEUE_BOARD_PATH}/api/queues`]) {
      expect((await fetch(`${server.url}${path}`)).status, path).toBe(404)
    }
  })
})

describe('no bull-board', () => {
  let app: FastifyInstance | undefined
  afterAll(async () => { await app?.close() })

  it('with the embedded back end: the metrics port serves /metrics and answers 404 at /admin/queues', async () => {
    const metricsPort = await freePort()
    app = await buildTestApp({ METRICS_PORT: String(metricsPort), HOST: '127.0.0.1' })
    expect(app.jobs.backend).toBe('embedded')
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200)
    expect((await fetch(`http://127.0.0.1:${metricsPort}${QUEUE_BOARD_PATH}`)).status).toBe(404)
    await app.close()
    app = undefined
  })

  it('with Redis but no METRICS_PORT: /metrics moves to the public port, the board does not', async () => {
    app = await buildTestApp({ REDIS_URL: redis.url })
    expect(app.jobs.queues?.length).toBe(1)
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
    expect((await app.inject({ method: 'GET', url: QUEUE_BOARD_PATH })).statusCode).toBe(404)
    await app.close()
    app = undefined
  })
})
