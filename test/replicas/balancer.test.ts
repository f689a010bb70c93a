import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { haproxyConfig, REPLICA_NAMES } from '../support/haproxy.js'
import { failures, startLoad, type LoadTally } from '../support/load.js'
import { startReplicaSet, type ReplicaSet } from '../support/replica-set.js'
import { until } from '../support/until.js'

// The health check as deploy/haproxy/haproxy.cfg sets it: a check every `inter`, and a replica is out after
// `fall` failures. (With `fastinter` shorter than `inter`, the checks after a first failure come sooner.)
const haproxyText = readFileSync(haproxyConfig, 'utf8')
const setting = (name: string) => Number(new RegExp(`\\s${name} (\\d+)`).exec(haproxyText)![1])
const healthCheckWindowMs = setting('inter') * setting('fall')

// One thread per replica: three replicas and the load generator share this machine's cores.
// The drain delay outlasts the health-check window, so the balancer takes a replica out before it stops listening.
const replicaEnv = { POOL_THREADS: '1', SHUTDOWN_DRAIN_DELAY_MS: '1500', LOG_LEVEL: 'warn' }

function report (title: string, figures: Record<string, unknown>) {
  console.log(`\n[replicas] ${title}\n${JSON.stringify(figures, null, 2)}`)
}

const summary = (tally: LoadTally) => ({
  requests: tally.requests,
  seconds: Number(tally.durationS.toFixed(1)),
  ok: tally.ok,
  serviceRefusals: tally.serviceRefusals,
  wrong: tally.wrong,
  other: tally.other,
  socketErrors: tally.errors,
  timeouts: tally.timeouts,
  latencyMs: tally.latencyMs
})

/**
 * Stops replica `i` (SIGSTOP) at a moment HAProxy has requests on it, so that the SIGKILL that follows
 * certainly cuts work in flight: a frozen replica answers nothing, so once HAProxy's count of its sessions
 * holds still, each of them is a request it holds. Thawed and tried again while it holds none.
 * Answers HAProxy's row for it, frozen.
 */
async function freezeHoldingWork (set: ReplicaSet, i: number) {
  const name = REPLICA_NAMES[i]!
  const child = set.replicas[i]!.child
  for (let attempt = 0; attempt < 50; attempt++) {
    child.kill('SIGSTOP')
    let row = (await set.balancer.servers())[name]!
    for (;;) {
      await sleep(50)
      const next = (await set.balancer.servers())[name]!
      if (next.scur === row.scur) break
      row = next
    }
    if (Number(row.scur) > 0) return row
    child.kill('SIGCONT')
    await sleep(100)
  }
  throw new Error(`${name} held no request in 50 tries`)
}

describe('three replicas behind HAProxy', () => {
  let set: ReplicaSet | undefined
  afterEach(async () => { await set?.stop(); set = undefined })

  it('rolling restart under load: every request answered 2xx, no socket error', async () => {
    set = await startReplicaSet(replicaEnv)
    const load = startLoad({ url: set.balancer.url, connections: 8, terms: 1_000_000 })
    await sleep(1000)
    const steps = []
    for (const [i, name] of REPLICA_NAMES.entries()) {
      const old = set.replicas[i]!
      const signalled = performance.now()
      old.child.kill('SIGTERM')
      const outOfRotationMs = await set.balancer.waitForStatus(name, 'DOWN')
      const exit = await old.exited
      const exitedMs = performance.now() - signalled
      await set.replace(i)
      await set.balancer.waitForStatus(name, 'UP')
      steps.push({ replica: name, outOfRotationMs: Math.round(outOfRotationMs), exitedMs: Math.round(exitedMs), exit, backInRotationMs: Math.round(performance.now() - signalled) })
    }
    await sleep(1000)
    const tally = await load.stop()
    const servers = await set.balancer.servers()
    report('rolling restart under load (8 connections, 10^6 terms)', {
      ...summary(tally),
      steps,
      perReplica: Object.fromEntries(Object.entries(servers).map(([name, row]) => [name, { requests: Number(row.stot), retriedConnections: Number(row.wretr), redispatched: Number(row.wredis) }]))
    })

    expect(steps.map((step) => step.exit)).toEqual(REPLICA_NAMES.map(() => ({ code: 0, signal: null })))
    expect(tally.ok).toBeGreaterThan(100)
    expect(tally.wrong).toBe(0)
    expect(tally.serviceRefusals, 'non-2xx: the service refused work').toBe(0)
    expect(tally.other, 'non-2xx from the balancer').toEqual({})
    expect(tally.errors, 'socket errors and timeouts').toEqual({})
  })

  it('SIGKILL of one replica under load: only requests in flight on it fail, and it is out within one health-check window', async () => {
    // Debug logs, for the victim's own count of requests taken and not answered (reported beside HAProxy's).
    set = await startReplicaSet({ ...replicaEnv, LOG_LEVEL: 'debug' })
    // Requests of about 100 ms of kernel each, so that at any moment each replica holds some.
    const load = startLoad({ url: set.balancer.url, connections: 8, terms: 300_000_000 })
    await until(() => load.tally.ok >= 10, 60_000) // the load runs through every replica
    const victim = set.replicas[1]!
    const name = REPLICA_NAMES[1]
    const before = await freezeHoldingWork(set, 1)
    const okBeforeKill = load.tally.ok
    victim.child.kill('SIGKILL')
    const outOfRotationMs = await set.balancer.waitForStatus(name, 'DOWN', 10_000, 10)
    const atDown = (await set.balancer.servers())[name]!
    await victim.exited
    const okAtDown = load.tally.ok
    // The two left answer on: ten more answers, however slow the machine, and none of them sent to the victim.
    await until(() => load.tally.ok >= okAtDown + 10, 60_000)
    const later = (await set.balancer.servers())[name]!
    const tally = await load.stop()

    // In flight on the victim, counted three ways, each a lower bound: HAProxy's sessions on it while it was
    // frozen; requests it had taken and not answered by its own log (SIGKILL loses the lines its asynchronous
    // destination had not written yet); and requests HAProxy had handed to it that the server side cut short
    // (termination state SH or SD; HAProxy re-sends some of those, and `option dontlog-normal` logs only
    // requests that went wrong).
    const taken = new Set(victim.logs.filter((line) => line.msg === 'incoming request').map((line) => String(line.reqId)))
    for (const line of victim.logs) if (line.msg === 'request completed') taken.delete(String(line.reqId))
    const cut = new RegExp(` replicas/${name} .* S[HD][-\\w]{2} \\d+/\\d+/\\d+/\\d+/\\+?\\d+ \\d+/\\d+ "`)
    const cutByBalancer = set.balancer.log.filter((line) => cut.test(line)).length
    const inFlight = Math.max(taken.size, cutByBalancer, Number(before.scur))
    report('SIGKILL of one replica under load (8 connections, 3*10^8 terms)', {
      ...summary(tally),
      failed: failures(tally),
      inFlightOnKilledReplica: inFlight,
      inFlightByItsOwnLog: taken.size,
      inFlightCutByBalancer: cutByBalancer,
      balancerSessionsOnItFrozen: Number(before.scur),
      // Sent again to another replica by the balancer (its log's retry count), and answered there.
      replayed: set.balancer.log.filter((line) => Number(/ \d+\/\d+\/\d+\/\d+\/\+?(\d+) \d+\/\d+ "/.exec(line)?.[1] ?? 0) > 0).length,
      outOfRotationMs: Math.round(outOfRotationMs),
      healthCheckWindowMs,
      requestsToItAfterDown: Number(later.stot) - Number(atDown.stot),
      connectionAttemptsToItAfterDown: Number(later.econ) - Number(atDown.econ)
    })

    expect(inFlight, 'the kill hit a replica with work in flight').toBeGreaterThan(0)
    expect(tally.ok - okBeforeKill).toBeGreaterThanOrEqual(10)
    expect(tally.wrong).toBe(0)
    expect(failures(tally)).toBeLessThanOrEqual(inFlight)
    // HAProxy's own clock; its margin under a one-core hog is in docs/testing.md.
    expect(outOfRotationMs).toBeLessThanOrEqual(healthCheckWindowMs)
    // Once down, the balancer sends it nothing, not even a connection attempt to retry.
    expect(Number(later.stot)).toBe(Number(atDown.stot))
    expect(Number(later.econ)).toBe(Number(atDown.econ))
  })

  it('sustained overload: every answer is a 200 or the service\'s own 503 with Retry-After, never the balancer\'s error', async () => {
    set = await startReplicaSet(replicaEnv)
    const transitionsBefore = Object.values(await set.balancer.servers()).map((row) => Number(row.chkdown))
    const load = startLoad({ url: set.balancer.url, connections: 200, terms: 100_000_000 })
    // Readiness of each replica, asked directly, all through the overload.
    const readiness: Record<string, number> = {}
    const started = performance.now()
    while (performance.now() - started < 10_000) {
      await sleep(250)
      const answers = await Promise.all(set.ports.map((port) => fetch(`http://127.0.0.1:${port}/health/ready`).then((response) => response.status, () => 0)))
      for (const status of answers) readiness[status] = (readiness[status] ?? 0) + 1
    }
    const tally = await load.stop()
    const servers = await set.balancer.servers()
    const transitions = Object.values(servers).map((row, i) => Number(row.chkdown) - transitionsBefore[i]!)
    report('sustained overload (200 connections, 10^8 terms, 10 s)', {
      ...summary(tally),
      readinessAnswers: readiness,
      replicaDownTransitions: transitions,
      balancerLogLines: set.balancer.log.filter((line) => !/ 503 /.test(line)).slice(0, 5)
    })

    expect(tally.durationS).toBeGreaterThanOrEqual(8)
    expect(tally.ok).toBeGreaterThan(0)
    expect(tally.serviceRefusals, 'the service was overloaded: it refused some work itself').toBeGreaterThan(0)
    expect(tally.wrong).toBe(0)
    expect(tally.other, 'answers that were neither 200 nor the service\'s 503 (the balancer\'s own errors)').toEqual({})
    expect(tally.errors, 'resets, other socket errors and timeouts').toEqual({})
    expect(transitions, 'the balancer never took a replica out').toEqual([0, 0, 0])
    expect(Object.keys(readiness)).toEqual(['200'])
  })
})
