import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { LoadTestOptions, Target, Variant } from './args.js'
import { cpuSnapshot, cpuUsageBetween, type CpuUsage } from '../../test/support/cpu-time.js'
import { driveLoad, type LoadResult } from './drive-load.js'
import { startPeer } from './peer-process.js'
import type { ProbeSample } from './probe-sample.js'
import { startSampler } from './probe-sampler-client.js'
import { startServer } from '../../test/support/server-process.js'
import { summarize, type Summary } from './stats.js'

export interface ProbeSummary {
  /** Round trips of the probes sent in the phase. */
  rttMs: Summary
  /** From each probe's fixed-rate slot to its answer: adds the wait behind a probe that ran over its slot. */
  fromSlotMs: Summary
  failed: number
}

export interface TargetRun {
  /** The target (pool, inline, in-place, or the peer's name), then the variant and round when there are several: `pool info #2`. */
  name: string
  kind: Target['kind']
  /** pool, inline, in-place, or the peer's name. */
  target: string
  variant?: string
  round?: number
  /** Terms per request. */
  terms: number
  /** The service's environment, or the peer's command. */
  env: Record<string, string>
  command?: string
  /** Epoch milliseconds. */
  phases: { idleStart: number, loadStart: number, loadEnd: number, end: number }
  loadAverage: { before: number[], after: number[] }
  warmupRequestsPerSecond: number
  load: LoadResult
  probe: { idle: ProbeSummary, busy: ProbeSummary }
  /** What the server's own /probe said at the end of the load: event-loop delay p99 and utilizations over its recent window (NaN for a peer). */
  server: { loopDelayP99Ms: number, loopUtilization: number, poolUtilization: number }
  /** CPU time by consumer over the load window, from /proc (Linux only). */
  cpu?: CpuUsage
  samples: ProbeSample[]
}

const now = () => performance.timeOrigin + performance.now()

function summarizeProbes (samples: ProbeSample[]): ProbeSummary {
  const answered = samples.filter((sample) => sample.status === 200)
  return {
    rttMs: summarize(answered.map((sample) => sample.rttMs)),
    fromSlotMs: summarize(answered.map((sample) => sample.at + sample.rttMs - sample.scheduledAt)),
    failed: samples.length - answered.length
  }
}

interface Started {
  url: string
  pid: number
  /** The server is a process group (a peer), counted whole for CPU. */
  group: boolean
  env: Record<string, string>
  stop(): Promise<void>
}

async function start (target: Target, options: LoadTestOptions, variant?: Variant): Promise<Started> {
  if (target.kind === 'peer') {
    const peer = await startPeer(target.command)
    return { url: peer.url, pid: peer.pid, group: true, env: {}, stop: () => peer.stop() }
  }
  const env: Record<string, string> = { LOG_LEVEL: 'warn', ...options.serverEnv, ...variant?.env, EXECUTOR: target.executor }
  if (target.executor === 'pool' && options.threads !== undefined) env.POOL_THREADS = String(options.threads)
  const server = await startServer(env, { nodeArgs: options.nodeArgs, keepLogs: false, ...(variant?.entry === undefined ? {} : { entry: variant.entry }) })
  return { url: server.url, pid: server.child.pid!, group: false, env, stop: () => stopServer(server) }
}

/**
 * One target, start to finish: its own server process, warm-up, idle probing, load with probing,
 * a short tail, and the server stopped. `log` gets one progress line at a time.
 */
export async function runTarget (
  target: Target, options: LoadTestOptions, signal: AbortSignal, log: (line: string) => void, variant?: Variant, round?: number
): Promise<TargetRun> {
  const name = [target.name, variant?.name, options.rounds > 1 ? `#${round}` : undefined].filter(Boolean).join(' ')
  const loadAverageBefore = loadavg()
  const server = await start(target, options, variant)
  const tag = `[${name}]`
  log(`${tag} server pid ${server.pid} on ${server.url}`)
  try {
    const common = { url: server.url, terms: target.terms, connections: options.connections, signal }
    log(`${tag} warming up for ${options.warmupS} s`)
    const warmup = await driveLoad({ ...common, durationS: options.warmupS })

    const lifetimeMs = (options.idleS + options.durationS + options.tailS + 30) * 1000
    const sampler = startSampler(server.url, options.probeIntervalMs, lifetimeMs)
    log(`${tag} probe sampler pid ${sampler.pid}, one probe every ${options.probeIntervalMs} ms`)
    await sampler.ready
    const idleStart = now()
    log(`${tag} idle probing for ${options.idleS} s`)
    await sleep(options.idleS * 1000, undefined, { signal })

    log(`${tag} load: ${options.connections} connections, ${target.terms} terms per request, ${options.durationS} s`)
    const cpuBefore = await cpuSnapshot(server, sampler.pid)
    const load = await driveLoad({
      ...common,
      durationS: options.durationS,
      onSecond: (second, responses) => log(`${tag} ${second}/${Math.ceil(options.durationS)} s: ${responses} req/s`)
    })
    const cpuAfter = await cpuSnapshot(server, sampler.pid)
    await sleep(options.tailS * 1000, undefined, { signal })
    const samples = await sampler.stop()
    const end = now()

    const idle = samples.filter((sample) => sample.at >= idleStart && sample.at < load.startedAt)
    const busy = samples.filter((sample) => sample.at >= load.startedAt && sample.at < load.endedAt)
    const last = busy.findLast((sample) => sample.loopDelayP99Ms !== undefined)
    const run: TargetRun = {
      name,
      kind: target.kind,
      target: target.name,
      ...(variant === undefined ? {} : { variant: variant.name }),
      ...(round === undefined ? {} : { round }),
      terms: target.terms,
      env: server.env,
      ...(target.kind === 'peer' ? { command: target.command } : {}),
      phases: { idleStart, loadStart: load.startedAt, loadEnd: load.endedAt, end },
      loadAverage: { before: loadAverageBefore, after: loadavg() },
      warmupRequestsPerSecond: warmup.requestsPerSecond,
      load,
      probe: { idle: summarizeProbes(idle), busy: summarizeProbes(busy) },
      server: {
        loopDelayP99Ms: last?.loopDelayP99Ms ?? Number.NaN,
        loopUtilization: last?.loopUtilization ?? Number.NaN,
        poolUtilization: last?.poolUtilization ?? Number.NaN
      },
      samples
    }
    if (cpuBefore !== undefined && cpuAfter !== undefined) run.cpu = cpuUsageBetween(cpuBefore, cpuAfter)
    log(`${tag} done: ${load.requestsPerSecond.toFixed(0)} req/s${load.wrong > 0 ? ` (${load.wrong} WRONG results)` : ''}, probe p99 idle ${run.probe.idle.rttMs.p99.toFixed(2)} ms, busy ${run.probe.busy.rttMs.p99.toFixed(2)} ms`)
    return run
  } finally {
    await server.stop()
  }
}

async function stopServer (server: Awaited<ReturnType<typeof startServer>>) {
  const killer = setTimeout(() => server.child.kill('SIGKILL'), 5000)
  try {
    await server.stop('SIGTERM')
  } finally {
    clearTimeout(killer)
  }
}
