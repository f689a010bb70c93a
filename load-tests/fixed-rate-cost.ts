/**
 * `node dist/load-tests/fixed-rate-cost.js [--rate N] [--duration S] [--rounds N] [--entry PATH]`:
 * the event loop's CPU per request at one fixed request rate, for a range summed in place (10^3
 * terms), the same range handed to a worker (`chunks: 1`: the hand-off alone) and a 10^6-term range
 * offloaded. `npm run loadtest -- --in-place` compares a saturated event loop with one that sleeps
 * between requests; at one rate the three differ only by what the hand-off adds (docs/performance-vs-go.md).
 */
import { readFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import { mainThreadCpuMs } from '../test/support/cpu-time.js'
import { serverEntry, startServer } from '../test/support/server-process.js'

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    entry: { type: 'string', default: serverEntry }
  }
})
const rate = Number(values.rate)
const durationS = Number(values.duration)
const rounds = Number(values.rounds)

const bodies = {
  'in place, 10^3 terms': { start: 0, end: 1000 },
  'handed off, 10^3 terms (chunks: 1)': { start: 0, end: 1000, chunks: 1 },
  'handed off, 10^6 terms': { start: 0, end: 1_000_000 }
}

/** Voluntary context switches of the main thread: each is the event loop going to sleep. */
async function sleepsOf (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/task/${pid}/status`, 'utf8')
  return Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1])
}

async function load (url: string, body: object, seconds: number): Promise<number> {
  const result = await autocannon({
    url,
    connections: 4,
    duration: seconds,
    overallRate: rate,
    requests: [{ method: 'POST', path: '/v1/sum-of-squares', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }]
  })
  return result['2xx']
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const results = new Map<string, Array<{ cpuUs: number, sleeps: number }>>()
console.log(`${new Date().toISOString()}, Node ${process.version}, ${rate} req/s, load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`)
for (let round = 1; round <= rounds; round++) {
  for (const [name, body] of Object.entries(bodies)) {
    const server = await startServer({}, { entry: values.entry, keepLogs: false })
    try {
      const pid = server.child.pid!
      await load(server.url, body, 2)
      const [cpuBefore, sleepsBefore] = [await mainThreadCpuMs(pid), await sleepsOf(pid)]
      const answered = await load(server.url, body, durationS)
      const [cpuAfter, sleepsAfter] = [await mainThreadCpuMs(pid), await sleepsOf(pid)]
      const run = { cpuUs: (cpuAfter - cpuBefore) * 1000 / answered, sleeps: (sleepsAfter - sleepsBefore) / answered }
      results.set(name, [...(results.get(name) ?? []), run])
      console.log(`round ${round}, ${name}: ${run.cpuUs.toFixed(0)} µs of event loop a request, ${run.sleeps.toFixed(2)} sleeps a request (${answered} answered)`)
    } finally {
      await server.stop()
    }
  }
}
const inPlace = median(results.get('in place, 10^3 terms')!.map((run) => run.cpuUs))
console.log(`\nload average ${loadavg().map((v) => v.toFixed(2)).join(' ')}; medians over ${rounds} rounds:`)
for (const [name, runs] of results) {
  const cpuUs = median(runs.map((run) => run.cpuUs))
  console.log(`${name}: ${cpuUs.toFixed(0)} µs (${(cpuUs / inPlace).toFixed(2)}x in place), ${median(runs.map((run) => run.sleeps)).toFixed(2)} sleeps a request`)
}
