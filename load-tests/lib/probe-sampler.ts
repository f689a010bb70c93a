/**
 * Child process that probes GET /probe at a fixed rate over one keep-alive connection and records
 * every round trip. It runs apart from the load generator so that autocannon's own event loop,
 * busy with thousands of responses a second, cannot delay the probes and pass that off as the
 * server's latency.
 *
 * Protocol (IPC, see probe-sampler-client.ts): argv = [url, intervalMs, maxLifetimeMs]; it sends
 * `{ type: 'ready' }` after its first probe, and on `{ type: 'stop' }` sends `{ type: 'samples' }`
 * and exits. It exits on its own if the parent goes away or its lifetime runs out.
 */
import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import type { ProbeSample, SamplerMessage } from './probe-sample.js'

const [url, intervalArg, lifetimeArg] = process.argv.slice(2)
const intervalMs = Number(intervalArg)
const agent = new Agent({ keepAlive: true, maxSockets: 1 })
const samples: ProbeSample[] = []
const now = () => performance.timeOrigin + performance.now()
let stopping = false
let timer: NodeJS.Timeout | undefined
let wake = () => {}

function send (message: SamplerMessage) {
  process.send?.(message)
}

function probeOnce (scheduledAt: number): Promise<void> {
  return new Promise((resolve) => {
    const at = now()
    const sample: ProbeSample = { at, scheduledAt, rttMs: 0, status: 0 }
    const req = request(`${url}/probe`, { agent, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { body += chunk })
      res.on('end', () => {
        sample.rttMs = now() - at
        sample.status = res.statusCode ?? 0
        try {
          const probe = JSON.parse(body)
          sample.loopDelayP99Ms = probe.eventLoop.delayMs.p99
          sample.loopUtilization = probe.eventLoop.utilization
          sample.poolUtilization = probe.pool.utilization
        } catch { /* a non-JSON answer is recorded by its status alone */ }
        samples.push(sample)
        resolve()
      })
    })
    req.on('timeout', () => req.destroy(new Error('probe timed out')))
    req.on('error', (error) => {
      sample.rttMs = now() - at
      sample.error = error.message
      samples.push(sample)
      resolve()
    })
    req.end()
  })
}

/**
 * Slots are fixed (start + k * interval). A probe that outlasts its slot is followed at once by the
 * next, and the missed slots are skipped; `scheduledAt` keeps the slot each probe was meant for,
 * so the delay before sending stays visible instead of being silently omitted.
 */
async function run () {
  const start = now()
  await probeOnce(start)
  send({ type: 'ready' })
  let slot = 0
  // `stopping` is set by the 'stop' message, between awaits.
  for (;;) {
    if (stopping) break
    const scheduledAt = start + (slot + 1) * intervalMs
    const wait = scheduledAt - now()
    if (wait > 0) await new Promise<void>((resolve) => { wake = resolve; timer = setTimeout(resolve, wait) })
    if (stopping) break
    slot = Math.max(slot + 1, Math.floor((now() - start) / intervalMs))
    await probeOnce(scheduledAt)
  }
}

process.on('message', (message: SamplerMessage) => {
  if (message.type !== 'stop') return
  stopping = true
  clearTimeout(timer)
  wake()
})
process.on('disconnect', () => process.exit(0))
setTimeout(() => process.exit(3), Number(lifetimeArg)).unref()

await run()
agent.destroy()
send({ type: 'samples', samples })
process.disconnect()
