import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { closedForm } from '../../test/support/closed-form.js'
import { startRedis, type RedisServer } from '../../test/support/redis-server.js'
import { startServer } from '../../test/support/server-process.js'
import { startFlowJobs } from './flow-jobs.js'
import { submitJob } from './jobs-scenario.js'
import { countCommands, keyBytes, perChunk, type KeyBytes } from './redis-costs.js'
import { median } from './stats.js'

/**
 * What a job costs Redis, by design (issue 19, item 2): `service` is the service's Redis back end
 * (a BullMQ job per chunk, the job's record a hash kept by Lua), `flow` a BullMQ flow whose parent
 * is the job and whose children are its chunks (flow-jobs.ts). Each runs on a Redis of its own.
 */
export type JobDesign = 'service' | 'flow'

export interface JobsShape {
  /** Jobs submitted at once. */
  jobs: number
  chunks: number
  chunkTerms: number
  /** Chunks running at once (JOB_THREADS). */
  threads: number
}

export interface JobDesignRun {
  design: JobDesign
  /** Per chunk: commands clients sent (round trips, a script's EVALSHA included), and commands scripts ran. */
  commandsSent: number
  commandsInScripts: number
  /** Per chunk, by name, the most run first. */
  sentByName: Array<[string, number]>
  inScriptsByName: Array<[string, number]>
  /** Keys' bytes per job, above the idle queue's, from each sample taken while every job was active. */
  activeBytes: number[]
  finishedBytes: number
  /** BullMQ's event streams at the end: capped in length, shared by every job of a queue. */
  streamBytes: number
  chunksPerSecond: number
}

/** A design on its own Redis: submit a job of [start, end), and its sum once finished. */
interface Running {
  submit(start: number, end: number): Promise<string>
  finished(id: string): Promise<bigint>
  stop(): Promise<void>
}

async function startService (redis: RedisServer, { chunkTerms, threads }: JobsShape): Promise<Running> {
  const server = await startServer({
    LOG_LEVEL: 'warn',
    REDIS_URL: redis.url,
    POOL_THREADS: String(threads),
    JOB_THREADS: String(threads),
    JOB_CHUNK_TERMS: String(chunkTerms),
    JOB_MAX_TERMS: String(chunkTerms * 100_000)
  })
  return {
    submit: async (start, end) => (await submitJob(server, end, start)).id,
    async finished (id) {
      for (;;) {
        // Answers once the job has ended: the waiter reads the job on its changes, at most 4 times a second.
        const document = await (await fetch(`${server.url}/v1/jobs/${id}?wait=60`)).json() as { status: string, result?: string }
        if (document.status === 'succeeded') return BigInt(document.result!)
        if (document.status !== 'queued' && document.status !== 'running') throw new Error(`the job ended ${document.status}`)
      }
    },
    stop: async () => { await server.stop() }
  }
}

async function startFlow (redis: RedisServer, { chunkTerms, threads }: JobsShape): Promise<Running> {
  const flow = await startFlowJobs({ port: redis.port, concurrency: threads, chunkTerms })
  return { submit: flow.submit, finished: flow.finished, stop: flow.close }
}

/** Runs `shape.jobs` jobs at once in `design`, checks every sum, and says what they cost Redis. */
export async function measureJobDesign (design: JobDesign, shape: JobsShape): Promise<JobDesignRun> {
  const redis = await startRedis()
  const sampler = new Redis(redis.url)
  const running = design === 'service' ? await startService(redis, shape) : await startFlow(redis, shape)
  try {
    await sleep(500)
    const idle = await keyBytes(sampler)
    const counter = await countCommands(redis.port, sampler)
    const before = await counter.read()
    const startedAt = performance.now()
    const terms = shape.chunks * shape.chunkTerms
    const ids = await Promise.all(Array.from({ length: shape.jobs }, (_, k) => running.submit(k, k + terms)))
    const progress = { ended: 0 }
    const sums = Promise.all(ids.map((id) => running.finished(id).finally(() => { progress.ended++ })))
    // Samples while every job is active (one taken as the first ends is dropped).
    const samples: KeyBytes[] = []
    while (progress.ended === 0) {
      const sample = await keyBytes(sampler)
      if (progress.ended === 0) samples.push(sample)
      await sleep(100)
    }
    const results = await sums
    const seconds = (performance.now() - startedAt) / 1000
    const after = await counter.read()
    counter.close()
    results.forEach((sum, k) => { if (sum !== closedForm(k, k + terms)) throw new Error(`${design}: job ${k} answered ${sum}`) })
    const done = await keyBytes(sampler)
    const chunks = shape.jobs * shape.chunks
    const calls = perChunk(before, after, chunks)
    return {
      design,
      commandsSent: calls.sent,
      commandsInScripts: calls.inScripts,
      sentByName: calls.sentByName,
      inScriptsByName: calls.inScriptsByName,
      activeBytes: samples.map((sample) => (sample.keys - idle.keys) / shape.jobs),
      finishedBytes: (done.keys - idle.keys) / shape.jobs,
      streamBytes: done.streams,
      chunksPerSecond: chunks / seconds
    }
  } finally {
    await running.stop()
    sampler.disconnect()
    await redis.stop()
  }
}

/** One line of progress for a run. */
export const describeRun = (run: JobDesignRun) =>
  `${run.commandsSent.toFixed(2)} commands sent and ${run.commandsInScripts.toFixed(2)} in scripts per chunk; ` +
  `${Math.round(median(run.activeBytes))} bytes per active job (${run.activeBytes.length} samples), ${Math.round(run.finishedBytes)} per finished job; ` +
  `${run.chunksPerSecond.toFixed(0)} chunks/s\n  sent per chunk: ${named(run.sentByName)}\n  in scripts per chunk: ${named(run.inScriptsByName.slice(0, 12))}`
const named = (counts: Array<[string, number]>) => counts.filter(([, n]) => n >= 0.005).map(([name, n]) => `${name} ${n.toFixed(2)}`).join(', ')

export const REDIS_COSTS_HEADER = [
  '| design | commands sent per chunk | commands in scripts per chunk | bytes per active job (median) | (largest sample) | bytes per finished job | event streams, bytes |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'
]

/** A table row: medians over `runs` of one design. */
export function redisCostsRow (name: string, runs: JobDesignRun[]): string {
  const of = (pick: (run: JobDesignRun) => number) => median(runs.map(pick))
  return `| ${name} | ${of((r) => r.commandsSent).toFixed(2)} | ${of((r) => r.commandsInScripts).toFixed(2)} | ${Math.round(of((r) => median(r.activeBytes)))} | ` +
    `${Math.round(of((r) => Math.max(...r.activeBytes)))} | ${Math.round(of((r) => r.finishedBytes))} | ${Math.round(of((r) => r.streamBytes))} |`
}
