import { setTimeout as sleep } from 'node:timers/promises'
import { processCpuMs, threadsCpuMs } from '../../test/support/cpu-time.js'
import { startRedis, type RedisServer } from '../../test/support/redis-server.js'
import { startServer, type ServerProcess } from '../../test/support/server-process.js'
import { summarize, type Summary } from './stats.js'

export interface JobsScenarioOptions {
  /** Terms of the measured job. */
  terms: number
  /** JOB_CHUNK_TERMS for the servers; the service's default when undefined. */
  chunkTerms: number | undefined
  /** Terms per synchronous request in the latency phases. */
  syncTerms: number
  /** Seconds of synchronous requests per latency phase. */
  syncSeconds: number
  serverEnv: Record<string, string>
}

export type JobsMode = 'embedded' | 'redis'

/** A deployment: replicas, and the Redis they share. */
interface Deployment {
  replicas: ServerProcess[]
  redis?: RedisServer
  pids: () => number[]
  /** CPU of the pool's worker threads (the reniced ones: POOL_WORKER_NICE > 0), summed over replicas. */
  poolCpuMs: () => Promise<number>
  stop(): Promise<void>
}

export async function startDeployment (mode: JobsMode, replicas: number, options: JobsScenarioOptions): Promise<Deployment> {
  const redis = mode === 'redis' ? await startRedis() : undefined
  const env = {
    LOG_LEVEL: 'warn',
    ...(options.chunkTerms === undefined ? {} : { JOB_CHUNK_TERMS: String(options.chunkTerms) }),
    ...(redis === undefined ? {} : { REDIS_URL: redis.url }),
    ...options.serverEnv
  }
  const servers: ServerProcess[] = []
  const stop = async () => {
    await Promise.all(servers.map((server) => server.stop()))
    await redis?.stop()
  }
  try {
    for (let i = 0; i < replicas; i++) servers.push(await startServer(env))
  } catch (error) {
    await stop()
    throw error
  }
  return {
    replicas: servers,
    redis,
    pids: () => [...servers.map((server) => server.child.pid!), ...(redis === undefined ? [] : [redis.child.pid!])],
    poolCpuMs: async () => {
      const threads = (await Promise.all(servers.map((server) => threadsCpuMs(server.child.pid!)))).flat()
      return threads.filter((thread) => thread.nice > 0).reduce((sum, thread) => sum + thread.cpuMs, 0)
    },
    stop
  }
}

interface JobDoc {
  id: string
  status: string
  startedAt?: string
  finishedAt?: string
  result?: string
}

/** Submits a sum-of-squares job of [start, end); throws unless it is accepted (202). */
export async function submitJob (server: ServerProcess, end: number, start = 0): Promise<JobDoc> {
  const response = await fetch(`${server.url}/v1/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ task: 'sum-of-squares', input: { start, end } })
  })
  if (response.status !== 202) throw new Error(`POST /v1/jobs answered ${response.status}: ${await response.text()}`)
  return await response.json() as JobDoc
}

async function finished (server: ServerProcess, id: string): Promise<JobDoc> {
  for (;;) {
    const document = await (await fetch(`${server.url}/v1/jobs/${id}`)).json() as JobDoc
    if (document.status !== 'queued' && document.status !== 'running') return document
    await sleep(500)
  }
}

/** Sum of a Prometheus sample over every replica. */
async function metricSum (servers: ServerProcess[], name: string): Promise<number> {
  let total = 0
  for (const server of servers) {
    const text = await (await fetch(`${server.url}/metrics`)).text()
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `))
    total += line === undefined ? 0 : Number(line.split(' ')[1])
  }
  return total
}

export interface JobRun {
  mode: JobsMode
  replicas: number
  terms: number
  /** Server-side, from the job's startedAt to its finishedAt. */
  elapsedMs: number
  termsPerSecond: number
  /**
   * CPU of every replica and of redis-server while the job ran; of it, the pool threads' (the kernel),
   * and the rest (event loops, V8's and libuv's helper threads, redis-server): the coordination.
   */
  cpuMs: number
  poolMs: number
  coordinationMs: number
  chunks: number
}

/** Runs one job of `terms` terms, submitted to the first replica, and measures its time and CPU. */
export async function runJob (mode: JobsMode, deployment: Deployment, terms: number): Promise<JobRun> {
  const chunksBefore = await metricSum(deployment.replicas, 'compute_job_chunk_run_seconds_count')
  const cpuBefore = await Promise.all(deployment.pids().map(processCpuMs))
  const poolBefore = await deployment.poolCpuMs()
  const job = await submitJob(deployment.replicas[0]!, terms)
  const done = await finished(deployment.replicas[0]!, job.id)
  const cpuAfter = await Promise.all(deployment.pids().map(processCpuMs))
  const poolAfter = await deployment.poolCpuMs()
  if (done.status !== 'succeeded') throw new Error(`the job ended ${done.status}`)
  const cpuMs = cpuAfter.reduce((sum, ms, i) => sum + ms - cpuBefore[i]!, 0)
  const elapsedMs = Date.parse(done.finishedAt!) - Date.parse(done.startedAt!)
  return {
    mode,
    replicas: deployment.replicas.length,
    terms,
    elapsedMs,
    termsPerSecond: terms / (elapsedMs / 1000),
    cpuMs,
    poolMs: poolAfter - poolBefore,
    coordinationMs: cpuMs - (poolAfter - poolBefore),
    chunks: await metricSum(deployment.replicas, 'compute_job_chunk_run_seconds_count') - chunksBefore
  }
}

export interface LatencyRun {
  mode: JobsMode
  withJob: boolean
  /** Round trips of POST /v1/sum-of-squares and of GET /probe, one after the other, in ms. */
  sync: Summary
  probe: Summary
}

/** Sync requests and probes, one after the other on one connection each, for `seconds`; with a job running meanwhile if asked. */
export async function measureLatency (mode: JobsMode, server: ServerProcess, options: JobsScenarioOptions, withJob: boolean): Promise<LatencyRun> {
  // Far longer than the phase: cancelled at its end.
  const job = withJob ? await submitJob(server, 1e13) : undefined
  if (job !== undefined) await sleep(1000) // its chunks are running
  const sync: number[] = []
  const probe: number[] = []
  const until = performance.now() + options.syncSeconds * 1000
  while (performance.now() < until) {
    let started = performance.now()
    const response = await fetch(`${server.url}/v1/sum-of-squares`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ start: 0, end: options.syncTerms })
    })
    await response.arrayBuffer()
    if (response.status !== 200) throw new Error(`sync request answered ${response.status}`)
    sync.push(performance.now() - started)
    started = performance.now()
    await (await fetch(`${server.url}/probe`)).arrayBuffer()
    probe.push(performance.now() - started)
    await sleep(20)
  }
  if (job !== undefined) await fetch(`${server.url}/v1/jobs/${job.id}/cancel`, { method: 'POST' })
  return { mode, withJob, sync: summarize(sync), probe: summarize(probe) }
}
