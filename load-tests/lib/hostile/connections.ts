import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { compiledPath } from '../../../src/platform/paths.js'
import { agentFrom } from '../../../test/support/http.js'
import type { Attack } from '../hostile-attacks.js'
import type { HolderReport } from './idle-socket-holder.js'

const SOCKETS = 20_000
/** Each holder process stays well inside the tool's own descriptor limit (20,000 here). */
const HOLDERS = 4
// Opening 20,000 connections takes a loaded server over a minute: bounded well inside the tool's 180 s sampler.
const CAP_MS = 150_000

function rssMiB (pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024
  } catch {
    return Number.NaN
  }
}

/** GET /health/live from another address, one after another, until `stop` resolves: statuses seen. */
async function otherClient (url: string, stop: Promise<unknown>): Promise<Map<string, number>> {
  const agent = agentFrom('127.0.0.3', 1)
  const seen = new Map<string, number>()
  const state = { stopped: false }
  stop.then(() => { state.stopped = true }, () => {})
  while (!state.stopped) {
    const status = await fetchStatus(`${url}/health/live`, agent)
    seen.set(status, (seen.get(status) ?? 0) + 1)
    await sleep(200)
  }
  agent.destroy()
  return seen
}

async function fetchStatus (url: string, agent: ReturnType<typeof agentFrom>): Promise<string> {
  return await new Promise((resolve) => {
    const req = request(url, { agent, timeout: 5000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(String(res.statusCode)))
    })
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })))
    req.end()
  })
}

const tally = (counts: Map<string, number> | Record<string, number>) =>
  [...(counts instanceof Map ? counts : Object.entries(counts))].map(([key, n]) => `${n}x ${key}`).join(', ')

/** What one client can hold: connections (issue 17). */
export const attacks: Attack[] = [{
  name: 'idle-sockets-20k',
  description: `${SOCKETS} sockets from 127.0.0.2, each sends GET /health/live and idles; 127.0.0.3 polls /health/live meanwhile; then SIGTERM`,
  async run (server) {
    const started = performance.now()
    const pid = server.child.pid!
    const holders: ChildProcess[] = Array.from({ length: HOLDERS }, () =>
      fork(compiledPath('load-tests/lib/hostile/idle-socket-holder.js'), [String(server.port), '127.0.0.2', String(SOCKETS / HOLDERS), String(CAP_MS)], { stdio: 'ignore' }))
    const reports = Promise.all(holders.map(async (holder) => (await once(holder, 'message'))[0] as HolderReport))
    const other = otherClient(server.url, reports)
    const done = await reports
    const rss = rssMiB(pid)
    const alive = server.child.exitCode === null && server.child.signalCode === null
    const otherAnswers = await other
    const ms = performance.now() - started
    for (const holder of holders) holder.send('release')
    await Promise.all(holders.map((holder) => once(holder, 'exit')))
    const exit = await server.stop()

    const outcomes: Record<string, number> = {}
    for (const report of done) for (const [key, n] of Object.entries(report.outcomes)) outcomes[key] = (outcomes[key] ?? 0) + n
    const stillOpen = done.reduce((sum, report) => sum + report.stillOpen, 0)
    const refusal = done.find((report) => report.refusal !== undefined)?.refusal
    return {
      answer: `alive: ${alive ? 'yes' : 'no'}; SIGTERM exit ${exit.code ?? exit.signal}`,
      ms,
      note: `sockets: ${tally(outcomes)}; ${stillOpen} still open at the end; RSS ${Math.round(rss)} MiB; other client: ${tally(otherAnswers)}` +
        (refusal === undefined ? '' : `; refused with "${refusal.slice(0, 160)}"`)
    }
  }
}]
