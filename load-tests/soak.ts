import { mkdir, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { projectPath } from '../src/platform/paths.js'
import { startServer, type ServerProcess } from '../test/support/server-process.js'
import { pick, scenarios, type Outcome } from './lib/soak-scenarios.js'
import { formatSoakReport, type SoakReport, type Sample } from './lib/soak-report.js'

/**
 * `npm run soak`: a bounded mixed run against the real server over loopback: valid requests of
 * many sizes, invalid ones, overload bursts, early disconnects, short deadlines and worker faults.
 * Ends with a table and exits non-zero on an unexplained 5xx, a wrong answer, a dead server or
 * RSS that grew more than 20% over the run (median of its last sixth against its first sixth).
 */
const { values: args } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '4' },
    'warmup-seconds': { type: 'string', default: '10' },
    'no-faults': { type: 'boolean', default: false }
  }
})
const minutes = Number(args.minutes)
const concurrency = Number(args.concurrency)
const warmupMs = Number(args['warmup-seconds']) * 1000
const withFaults = !args['no-faults']
if (!(minutes > 0 && minutes <= 600) || !(concurrency >= 1 && concurrency <= 256)) {
  console.error('usage: npm run soak -- [--minutes N (0 < N <= 600)] [--concurrency C] [--warmup-seconds S] [--no-faults]')
  process.exit(2)
}

let started: ServerProcess | undefined
const stopServer = () => { started?.child.kill('SIGKILL') }
process.once('SIGINT', () => { stopServer(); process.exit(130) })
process.once('exit', stopServer)

const server = started = await startServer({
  LOG_LEVEL: 'warn',
  ENABLE_TEST_FAULTS: String(withFaults),
  WORKER_MAX_OLD_GENERATION_MB: '64'
})
const url = server.url
const available = scenarios.filter((scenario) => withFaults || scenario.needsFaults !== true)

const samples: Sample[] = []
async function sample (phase: Sample['phase']) {
  try {
    const probe = await (await fetch(`${url}/probe`)).json() as {
      eventLoop: { delayMs: { p99: number } }, pool: { threadsReplaced: number, threads: number }, memory: { rssBytes: number, heapUsedBytes: number }
    }
    samples.push({ at: Date.now(), phase, rssBytes: probe.memory.rssBytes, heapUsedBytes: probe.memory.heapUsedBytes, delayP99Ms: probe.eventLoop.delayMs.p99, threadsReplaced: probe.pool.threadsReplaced, threads: probe.pool.threads })
  } catch { /* a missed sample is visible as a gap; the server's death is checked below */ }
}

const outcomes: Outcome[] = []
async function drive (until: number, record: boolean) {
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < until && server.child.exitCode === null) {
      const results = await pick(available).run(url)
      if (record) outcomes.push(...results)
    }
  }))
}

const startedAt = Date.now()
console.log(`soak: ${minutes} min at concurrency ${concurrency} against ${url}${withFaults ? ', with worker faults' : ''}; warming up ${warmupMs / 1000} s`)
await drive(Date.now() + warmupMs, false)
await sleep(1000)
await sample('warm')

const end = Date.now() + minutes * 60_000
const ticker = setInterval(() => {
  sample('run').then(() => {
    const last = samples.at(-1)!
    const bad = outcomes.filter((o) => !o.expected || o.correct === false).length
    console.log(`  ${Math.round((Date.now() - startedAt) / 1000)} s: ${outcomes.length} requests, ${bad} unexplained, rss ${(last.rssBytes / 2 ** 20).toFixed(0)} MiB, heap ${(last.heapUsedBytes / 2 ** 20).toFixed(0)} MiB, loop p99 ${last.delayP99Ms} ms, threads replaced ${last.threadsReplaced}`)
  }, () => {})
}, 5000)
await drive(end, true)
clearInterval(ticker)

// Let in-flight aborts and thread replacements settle before the last reading.
await sleep(3000)
await sample('end')
const alive = server.child.exitCode === null
server.child.kill('SIGTERM')
const exit = await server.exited

const report: SoakReport = { minutes, concurrency, withFaults, outcomes, samples, serverAlive: alive, exit, finishedAt: new Date().toISOString() }
const { markdown, failures } = formatSoakReport(report)
await mkdir(projectPath('load-tests/results'), { recursive: true })
const stamp = report.finishedAt.replace(/[:.]/g, '-')
const base = projectPath(`load-tests/results/soak-${stamp}`)
await writeFile(`${base}.json`, JSON.stringify(report, null, 2))
await writeFile(`${base}.md`, markdown)
console.log(`\n${markdown}\nwritten to ${base}.{json,md}`)
process.exitCode = failures.length === 0 ? 0 : 1
