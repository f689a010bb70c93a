import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { projectPath } from '../../src/platform/paths.js'
import { freePort } from './server-process.js'

/** The balancer's configuration, as deploy/compose.yaml uses it; started here with loopback addresses. */
export const haproxyConfig = projectPath('deploy/haproxy/haproxy.cfg')
/** The backend and server names in that file. */
export const BACKEND = 'replicas'
export const REPLICA_NAMES = ['replica1', 'replica2', 'replica3'] as const

/** One row of HAProxy's stats CSV (`show stat`): every field by its header name, e.g. status, stot, econ, wretr. */
export type StatsRow = Record<string, string>

export interface Balancer {
  url: string
  statsUrl: string
  child: ChildProcess
  /** HAProxy's log lines so far (with `option dontlog-normal`: only failed, retried or 5xx requests). */
  log: string[]
  /** Every row of the stats page, as HAProxy reports it now. */
  stats(): Promise<StatsRow[]>
  /** The backend's servers by name. */
  servers(): Promise<Record<string, StatsRow>>
  /** Polls until the server's status starts with `status` ('UP' or 'DOWN'); resolves with the milliseconds waited. */
  waitForStatus(server: string, status: 'UP' | 'DOWN', timeoutMs?: number, pollMs?: number): Promise<number>
  stop(): Promise<void>
}

/**
 * Starts HAProxy (`haproxy` on PATH; `.ci/run` installs Debian's) with deploy/haproxy/haproxy.cfg, in
 * front of three replicas at the given host:port addresses, on free loopback ports, and resolves
 * once every replica is UP.
 */
export async function startBalancer (replicas: readonly string[], timeoutMs = 15_000): Promise<Balancer> {
  if (replicas.length !== REPLICA_NAMES.length) throw new Error(`the config names ${REPLICA_NAMES.length} replicas, got ${replicas.length}`)
  const [port, statsPort] = [await freePort(), await freePort()]
  const child = spawn('haproxy', ['-db', '-f', haproxyConfig], {
    env: {
      ...process.env,
      HAPROXY_BIND: `127.0.0.1:${port}`,
      HAPROXY_STATS_BIND: `127.0.0.1:${statsPort}`,
      ...Object.fromEntries(replicas.map((address, i) => [`REPLICA${i + 1}`, address]))
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit')
  const log: string[] = []
  createInterface({ input: child.stdout! }).on('line', (line) => log.push(line))
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line))

  const statsUrl = `http://127.0.0.1:${statsPort}/stats`
  const stats = async (): Promise<StatsRow[]> => {
    const [header, ...lines] = (await (await fetch(`${statsUrl};csv`)).text()).trim().split('\n')
    const names = header!.replace(/^# /, '').split(',')
    return lines.map((line) => Object.fromEntries(line.split(',').map((value, i) => [names[i]!, value])))
  }
  const servers = async () => Object.fromEntries((await stats())
    .filter((row) => row.pxname === BACKEND && (REPLICA_NAMES as readonly string[]).includes(row.svname!))
    .map((row) => [row.svname!, row]))
  const waitForStatus = async (server: string, status: 'UP' | 'DOWN', waitMs = 15_000, pollMs = 20) => {
    const started = performance.now()
    for (;;) {
      if ((await servers())[server]?.status?.startsWith(status) === true) return performance.now() - started
      if (performance.now() - started > waitMs) throw new Error(`${server} not ${status} within ${waitMs} ms\n${log.slice(-20).join('\n')}`)
      await sleep(pollMs)
    }
  }
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }

  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}\n${log.join('\n')}`)
    try {
      const states = Object.values(await servers()).map((row) => row.status)
      if (states.length === REPLICA_NAMES.length && states.every((state) => state === 'UP')) break
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`haproxy did not see every replica UP within ${timeoutMs} ms\n${log.join('\n')}`)
    }
    await sleep(50)
  }
  return { url: `http://127.0.0.1:${port}`, statsUrl, child, log, stats, servers, waitForStatus, stop }
}
