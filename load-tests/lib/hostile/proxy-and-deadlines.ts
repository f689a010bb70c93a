import { performance } from 'node:perf_hooks'
import { startBalancer } from '../../../test/support/haproxy.js'
import { agentFrom, postJsonThrough as postFrom } from '../../../test/support/http.js'
import { startServer, type ServerProcess } from '../../../test/support/server-process.js'
import { mainThreadCpuMs, processCpuMs } from '../../../test/support/cpu-time.js'
import { count, loop, probe, type Attack } from '../hostile-attacks.js'

/** B's latency, one request at a time until `until`: milliseconds of each 200. */
async function timedLoop (until: number, send: () => Promise<{ status: number }>): Promise<number[]> {
  const latencies: number[] = []
  while (performance.now() < until) {
    const started = performance.now()
    const { status } = await send()
    if (status === 200) latencies.push(performance.now() - started)
  }
  return latencies
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!
}

/** Client A floods short deadlines while client B measures its own latency, first alone then under the flood. */
function shortDeadlineFlood (name: string, description: string, body: Record<string, number>, timeoutMs: () => number, floodMs: number): Attack {
  return {
    name,
    description,
    async run (server) {
      const url = `${server.url}/v1/sum-of-squares`
      const a = agentFrom('127.0.0.2')
      const b = agentFrom('127.0.0.3', 1)
      const victim = () => postFrom(b, url, { end: 200_000_000 })
      const alone = await timedLoop(performance.now() + 4000, victim)
      const before = (await probe(server)).pool?.threadsReplaced ?? 0
      const pid = server.child.pid!
      // Where the CPU went meanwhile: the server's event loop, all its threads, and this tool (both clients).
      const cpuBefore = [await mainThreadCpuMs(pid), await processCpuMs(pid), process.cpuUsage()] as const
      const until = performance.now() + floodMs
      const started = performance.now()
      const [flood, underFlood] = await Promise.all([
        loop(8, until, () => postFrom(a, url, body, { 'x-timeout-ms': String(timeoutMs()) })),
        timedLoop(until, victim)
      ])
      const share = (ms: number) => `${Math.round(ms / (performance.now() - started) * 100)}%`
      const tool = process.cpuUsage(cpuBefore[2])
      const cpu = `CPU of a core: event loop ${share(await mainThreadCpuMs(pid) - cpuBefore[0])}, server ${share(await processCpuMs(pid) - cpuBefore[1])}, load tool ${share((tool.user + tool.system) / 1000)}`
      const replaced = ((await probe(server)).pool?.threadsReplaced ?? 0) - before
      for (const agent of [a, b]) agent.destroy()
      const [idle, loaded] = [median(alone), median(underFlood)]
      return {
        answer: `B p50 ${(idle / 1000).toFixed(2)} -> ${(loaded / 1000).toFixed(2)} s (${(loaded / idle).toFixed(1)}x)`,
        ms: performance.now() - started,
        note: `${replaced} threads replaced; B ${alone.length} 200s alone, ${underFlood.length} under the flood; A: ${flood.length} requests, ${count(flood, 504)} 504, ${count(flood, 503)} 503, ${count(flood, 200)} 200; ${cpu}`
      }
    }
  }
}

/** 30 requests from one client through HAProxy (deploy/haproxy/haproxy.cfg), each with a new X-Forwarded-For: how many got through a limit of 10. */
async function rotateThroughBalancer (replica: string): Promise<string> {
  const balancer = await startBalancer([replica, replica, replica])
  const agent = agentFrom('127.0.0.2', 1)
  try {
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      const reply = await postFrom(agent, `${balancer.url}/v1/sum-of-squares`, { end: 1000 }, { 'x-forwarded-for': `198.51.100.${i + 1}` })
      statuses.push(reply.status)
    }
    return `${count(statuses, 200)}/30 200, ${count(statuses, 429)} 429`
  } finally {
    agent.destroy()
    await balancer.stop()
  }
}

const limit = { RATE_LIMIT_MAX: '10', RATE_LIMIT_WINDOW_MS: '60000' }

/** What one client can hold: proxy-and-deadlines (issue 17). */
export const attacks: Attack[] = [
  shortDeadlineFlood(
    'short-deadline-flood-1e10',
    'client A (127.0.0.2): 8 loops of {"end":1e10} with X-Timeout-Ms 60 for 20 s; client B (127.0.0.3): {"end":2e8} in a loop, 4 s alone first; B\'s p50 alone -> under the flood',
    { end: 1e10 }, () => 60, 20_000
  ),
  shortDeadlineFlood(
    'short-deadline-flood-edge',
    'as short-deadline-flood-1e10, but A sends {"end":1.2e9,"chunks":2} (2 x 400 ms estimated) with X-Timeout-Ms 210: just admissible (400 / 2 < 210), aborted with more than THREAD_START_MS left',
    { end: 1_200_000_000, chunks: 2 }, () => 210, 20_000
  ),
  {
    name: 'xff-rotation',
    description: 'RATE_LIMIT_MAX=10: one client behind HAProxy (deploy/, option forwardfor) sends 30 requests, each with a new X-Forwarded-For; TRUST_PROXY=true (a second server of the same build), then TRUST_PROXY=1',
    env: { ...limit, TRUST_PROXY: '1' },
    startTimeoutMs: 30_000,
    async run (server) {
      const started = performance.now()
      // The same build, with TRUST_PROXY=true: the configuration.
      let trusting: ServerProcess | undefined
      let withTrue: string
      try {
        trusting = await startServer({ LOG_LEVEL: 'warn', POOL_THREADS: '1', ...limit, TRUST_PROXY: 'true' }, { entry: server.child.spawnargs.at(-1)! })
        withTrue = await rotateThroughBalancer(`127.0.0.1:${trusting.port}`)
      } catch (error) {
        const reason = /TRUST_PROXY=[^\n]*/.exec(String(error))?.[0] ?? String(error).slice(0, 120)
        withTrue = `refused to start (${reason.slice(0, 60)}...)`
      } finally {
        await trusting?.stop()
      }
      const withOneHop = await rotateThroughBalancer(`127.0.0.1:${server.port}`)
      return { answer: `true: ${withTrue}; 1: ${withOneHop}`, ms: performance.now() - started, note: 'limit 10 per client' }
    }
  }
]
