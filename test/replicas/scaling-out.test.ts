import { loadavg } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { sample } from '../helper.js'
import { closedForm } from '../support/closed-form.js'
import { deploy, jobClient, type Deployment } from '../support/jobs.js'
import type { ServerProcess } from '../support/server-process.js'
import { until } from '../support/until.js'

/**
 * What an autoscaler adding replicas under a queued job does, on real processes: one replica with a
 * long job queued, then a second and a third started one by one. Asserted are causes (every replica
 * completes chunks of the job once it has started, the result is exact); the throughput per replica
 * count is a figure, printed, never asserted (docs/deploying-replicas.md).
 */

// One thread per replica, as a pod with one core: replica k adds one chunk at a time. Chunks of
// 3*10^8 terms take a few hundred ms, so each step measures dozens of them within seconds.
const CHUNK_TERMS = 300_000_000
const CHUNKS = 160
/** Chunks each step completes, per replica in it, before the next replica starts. */
const CHUNKS_PER_REPLICA_PER_STEP = 12
const env = { POOL_THREADS: '1', JOB_CHUNK_TERMS: String(CHUNK_TERMS), JOB_MAX_TERMS: String(CHUNKS * CHUNK_TERMS) }
const client = jobClient()
const labels = { queue: 'compute-chunks' }

const scrape = async (server: ServerProcess) => (await fetch(`${server.url}/metrics`)).text()
/**
 * Chunks each replica has completed since it started (a new process counts from 0), and their
 * kernel seconds, from one scrape of each: per chunk, those grow once replicas outnumber cores.
 */
const progress = async (replicas: ServerProcess[]) => Promise.all(replicas.map(async (replica) => {
  const text = await scrape(replica)
  return {
    chunks: sample(text, 'compute_job_chunk_run_seconds_count') ?? 0,
    kernel: sample(text, 'compute_job_chunk_run_seconds_sum') ?? 0,
    waiting: sample(text, 'compute_job_chunks_waiting', labels)
  }
}))
const completed = async (replicas: ServerProcess[]) => (await progress(replicas)).map(({ chunks }) => chunks)
const sum = (counts: number[]) => counts.reduce((total, count) => total + count, 0)
const round = (value: number) => Number(value.toFixed(2))

describe('scaling out under a queued job', () => {
  let deployment: Deployment | undefined
  afterAll(async () => { await deployment?.stop() })

  it('each replica started takes chunks of the job already queued, the result stays exact, and throughput follows the replica count', async () => {
    deployment = await deploy('redis', 1, env)
    const replicas = deployment.replicas
    const input = { start: 0, end: CHUNKS * CHUNK_TERMS }
    const { status, body: job } = await client.submit(replicas[0]!, input)
    expect(status).toBe(202)

    // The signal an autoscaler reads: chunks waiting that one replica has not taken.
    const waiting = await until(async () => sample(await scrape(replicas[0]!), 'compute_job_chunks_waiting', labels) || undefined)
    expect(waiting).toBeGreaterThan(0)

    const steps = []
    for (let count = 1; count <= 3; count++) {
      if (count > 1) await deployment.addReplica()
      const before = await progress(replicas)
      const startedAt = performance.now()
      // The step ends once every replica has completed chunks in it, and together their share.
      const after = await until(async () => {
        const now = await progress(replicas)
        const step = now.map(({ chunks }, i) => chunks - before[i]!.chunks)
        return step.every((done) => done > 0) && sum(step) >= CHUNKS_PER_REPLICA_PER_STEP * count ? now : undefined
      }, 60_000, 100)
      const seconds = (performance.now() - startedAt) / 1000
      const perReplica = after.map(({ chunks }, i) => chunks - before[i]!.chunks)
      const chunks = sum(perReplica)
      const kernelPerChunk = sum(after.map(({ kernel }, i) => kernel - before[i]!.kernel)) / chunks
      steps.push({ replicas: count, waitingAtStart: before[0]!.waiting, chunks, perReplica: perReplica.join('/'), seconds: round(seconds), chunksPerSecond: round(chunks / seconds), kernelSecondsPerChunk: round(kernelPerChunk), loadAverage1m: round(loadavg()[0]!) })
      // The cause of any speed-up: the replica just started runs chunks of the job queued before it.
      expect(perReplica.at(-1)).toBeGreaterThan(0)
    }

    const finished = await client.finished(replicas[0]!, job.id, 120_000)
    expect(finished).toMatchObject({ status: 'succeeded', progress: { done: input.end, total: input.end }, result: closedForm(input.start, input.end).toString() })
    // Every chunk ran to completion somewhere; more only by a retry (a lock lost on a busy machine).
    const runs = sum(await completed(replicas))
    const retries = sum(await Promise.all(replicas.map(async (replica) => sample(await scrape(replica), 'compute_job_chunk_retries_total') ?? 0)))
    expect(runs).toBeGreaterThanOrEqual(CHUNKS)
    expect(runs).toBeLessThanOrEqual(CHUNKS + retries)
    // The queue is empty, and every replica reads the same (empty) queue.
    for (const replica of replicas) {
      const text = await scrape(replica)
      expect([sample(text, 'compute_job_chunks_waiting', labels), sample(text, 'compute_job_chunks_running', labels)]).toEqual([0, 0])
    }

    console.log(`\n[replicas] chunk throughput by replica count (${CHUNK_TERMS} terms a chunk, POOL_THREADS=1, first read of compute_job_chunks_waiting: ${waiting})`)
    console.table(steps)
  }, 180_000)
})
