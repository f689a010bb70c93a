import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { rawExchange, requestHead } from '../../../test/support/raw-http.js'
import type { ServerProcess } from '../../../test/support/server-process.js'
import { followOverSocket, type SseFollower } from '../../../test/support/sse-follower.js'
import type { Attack } from '../hostile-attacks.js'

/** A job that runs for minutes on a busy machine: streams on it stay open. */
const LONG_JOB = { task: 'sum-of-squares', input: { start: 0, end: 100_000_000_000_000 } }
/** A job that finishes at once (one small chunk). */
const SHORT_JOB = { task: 'sum-of-squares', input: { start: 0, end: 1000 } }

async function createJob (server: ServerProcess, body: unknown): Promise<string> {
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  if (response.status !== 202) throw new Error(`POST /v1/jobs answered ${response.status}: ${await response.text()}`)
  return ((await response.json()) as { id: string }).id
}

/** The server process's peak resident memory so far (Linux), in MB. */
function peakRssMb (server: ServerProcess): number {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.child.pid}/status`, 'utf8'))
    return match === null ? Number.NaN : Math.round(Number(match[1]) / 1024)
  } catch {
    return Number.NaN
  }
}

/** Polls /health/live from another loopback address every 200 ms; returns the longest round trip. */
function watchLiveness (server: ServerProcess, until: () => boolean): Promise<{ longestMs: number, failed: number }> {
  return (async () => {
    let longestMs = 0
    let failed = 0
    while (!until()) {
      const outcome = await rawExchange({ port: server.port, head: requestHead('GET', '/health/live', []), capMs: 10_000, localAddress: '127.0.0.2' })
      if (outcome.status !== 200) failed++
      longestMs = Math.max(longestMs, Number.isNaN(outcome.answeredMs) ? 10_000 : outcome.answeredMs)
      await sleep(200)
    }
    return { longestMs: Math.round(longestMs), failed }
  })()
}

const alive = (server: ServerProcess) => server.child.exitCode === null && server.child.signalCode === null

const sseStreams17k: Attack = {
  name: 'sse-streams-17k',
  startTimeoutMs: 60_000,
  description: 'One long job; one address opens GET /v1/jobs/{id}/events streams, 200 at a time, up to 17,000 or 60 s; /health/live polled from 127.0.0.2',
  async run (server) {
    const id = await createJob(server, LONG_JOB)
    const started = performance.now()
    const followers: SseFollower[] = []
    const statuses = new Map<number, number>()
    let finished = false
    const liveness = watchLiveness(server, () => finished)
    // The tool's own limit is 20,000 descriptors: 17,000 streams leave room for the rest.
    while (followers.length < 17_000 && performance.now() - started < 60_000 && alive(server)) {
      const batch = Array.from({ length: 200 }, () => followOverSocket(server.port, id))
      followers.push(...batch)
      const answered = await Promise.all(batch.map((follower) => Promise.race([follower.status, sleep(10_000).then(() => -1)])))
      for (const status of answered) statuses.set(status, (statuses.get(status) ?? 0) + 1)
    }
    const ms = performance.now() - started
    await sleep(1000) // the streams held open: liveness and memory with all of them in place
    finished = true
    const { longestMs, failed } = await liveness
    const rss = peakRssMb(server)
    for (const follower of followers) follower.socket.destroy()
    const accepted = statuses.get(200) ?? 0
    const refused = [...statuses].filter(([status]) => status !== 200).map(([status, n]) => `${n}x${status === -1 ? 'no answer' : status === 0 ? 'closed' : status}`).join(' ')
    return {
      answer: alive(server) ? `${accepted} streams accepted` : 'process died',
      ms,
      note: `${followers.length} opened: ${accepted} accepted, refused ${refused === '' ? 'none' : refused}; RSS peak ${rss} MB; /health/live longest ${longestMs} ms (${failed} not 200)`
    }
  }
}

const sigtermSseFollowersRedis: Attack = {
  name: 'sigterm-sse-followers-redis',
  startTimeoutMs: 60_000,
  description: 'Redis; 20 followers of a finished job and 20 of a running one keep their sockets open after their stream ends; then SIGTERM',
  redis: true,
  async run (server) {
    const shortId = await createJob(server, SHORT_JOB)
    const longId = await createJob(server, LONG_JOB)
    const finishedFollowers = Array.from({ length: 20 }, () => followOverSocket(server.port, shortId))
    await Promise.race([Promise.all(finishedFollowers.map((follower) => follower.done)), sleep(10_000)])
    const runningFollowers = Array.from({ length: 20 }, () => followOverSocket(server.port, longId))
    await Promise.race([Promise.all(runningFollowers.map((follower) => follower.status)), sleep(10_000)])
    await sleep(500)
    const signalled = performance.now()
    server.child.kill('SIGTERM')
    const exit = await Promise.race([server.exited, sleep(30_000).then(() => undefined)])
    const ms = performance.now() - signalled
    const followers = [...finishedFollowers, ...runningFollowers]
    const closedByServer = (await Promise.all(followers.map((follower) => Promise.race([follower.closed.then(() => 1), sleep(0).then(() => 0)])))).reduce((a, b) => a + b, 0)
    for (const follower of followers) follower.socket.destroy()
    return {
      answer: exit === undefined ? 'still running 30 s after SIGTERM' : `exit ${exit.code ?? exit.signal}`,
      ms,
      note: `${closedByServer} of ${followers.length} follower sockets closed by the server`
    }
  }
}

/** What one client can hold: streams (issue 17). */
export const attacks: Attack[] = [sseStreams17k, sigtermSseFollowersRedis]
