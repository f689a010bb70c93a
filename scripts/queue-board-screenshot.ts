/**
 * npm run screenshot:queue-board [-- OUT.png]: the picture of bull-board in docs/jobs.md. Starts a
 * throwaway Redis and the built server (REDIS_URL, METRICS_PORT), submits a long job, waits until
 * bull-board's API shows one of its chunks running, then has headless Chromium (Debian's
 * `chromium`) draw the queue's page. Stops the server and Redis it started whatever happens.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { CHUNK_QUEUE } from '../src/jobs/redis-chunk-queue.js'
import { QUEUE_BOARD_PATH } from '../src/plugins/queue-board.js'
import { projectPath } from '../src/platform/paths.js'
import { postJson } from '../test/support/http.js'
import { startRedis } from '../test/support/redis-server.js'
import { freePort, startServer } from '../test/support/server-process.js'
import { until } from '../test/support/until.js'

const out = process.argv[2] ?? projectPath('docs/queue-board.png')
const browser = process.env.CHROMIUM ?? 'chromium'

const redis = await startRedis()
try {
  const metricsPort = await freePort()
  const server = await startServer({ REDIS_URL: redis.url, METRICS_PORT: String(metricsPort), POOL_THREADS: '2', LOG_LEVEL: 'warn' })
  try {
    const board = `http://127.0.0.1:${metricsPort}${QUEUE_BOARD_PATH}`
    const job = await postJson(`${server.url}/v1/jobs`, { task: 'sum-of-squares', input: { start: 0, end: 1_000_000_000_000 } })
    if (job.status !== 202) throw new Error(`POST /v1/jobs answered ${job.status}`)
    // The page shows what the API answers: wait for a running chunk rather than for a time.
    await until(async () => {
      const { queues } = await (await fetch(`${board}/api/queues?activeQueue=${CHUNK_QUEUE}&status=active`)).json() as { queues: Array<{ jobs: unknown[] }> }
      return (queues[0]?.jobs.length ?? 0) > 0
    })
    // The virtual-time budget lets the page's script fetch and draw before the picture is taken.
    await promisify(execFile)(browser, [
      '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--window-size=1280,800',
      '--virtual-time-budget=10000', `--screenshot=${out}`, `${board}/queue/${CHUNK_QUEUE}?status=active`
    ], { timeout: 120_000 })
    console.log(`${out}: ${board}/queue/${CHUNK_QUEUE}?status=active, job ${String(job.body.id)}`)
  } finally {
    await server.stop()
  }
} finally {
  await redis.stop()
}
