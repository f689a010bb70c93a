import type { Exit } from '../../test/support/server-process.js'
import type { Outcome } from './soak-scenarios.js'

export interface Sample {
  at: number
  phase: 'warm' | 'run' | 'end'
  rssBytes: number
  heapUsedBytes: number
  delayP99Ms: number
  threadsReplaced: number
  threads: number
}

export interface SoakReport {
  minutes: number
  concurrency: number
  withFaults: boolean
  outcomes: Outcome[]
  samples: Sample[]
  serverAlive: boolean
  exit: Exit
  finishedAt: string
}

/** The median RSS of the run's last sixth may be at most this much above that of its first sixth. */
const RSS_GROWTH_LIMIT = 0.2

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

export function formatSoakReport (report: SoakReport): { markdown: string, failures: string[] } {
  const { outcomes, samples } = report
  const byScenario = new Map<string, Map<string, number>>()
  const statuses = new Set<string>()
  for (const outcome of outcomes) {
    const counts = byScenario.get(outcome.scenario) ?? new Map<string, number>()
    counts.set(String(outcome.status), (counts.get(String(outcome.status)) ?? 0) + 1)
    byScenario.set(outcome.scenario, counts)
    statuses.add(String(outcome.status))
  }
  const columns = [...statuses].sort()
  const statusTable = [
    `| scenario | ${columns.join(' | ')} | total |`,
    `| --- | ${columns.map(() => '---:').join(' | ')} | ---: |`,
    ...[...byScenario].map(([scenario, counts]) =>
      `| ${scenario} | ${columns.map((c) => counts.get(c) ?? 0).join(' | ')} | ${[...counts.values()].reduce((a, b) => a + b, 0)} |`)
  ].join('\n')

  const warm = samples.find((s) => s.phase === 'warm')
  const last = samples.filter((s) => s.phase === 'end').at(-1)
  const peak = (key: 'rssBytes' | 'heapUsedBytes') => Math.max(...samples.map((s) => s[key]))
  // RSS saws up and down by a third as the GC runs (JSON uploads allocate tens of MiB), so one
  // reading at each end says more about where the sawtooth was than about growth: compare the
  // median of the first and last sixth of the run's readings (at least three each).
  const running = samples.filter((s) => s.phase === 'run')
  const span = Math.max(3, Math.floor(running.length / 6))
  const early = median(running.slice(0, span).map((s) => s.rssBytes))
  const late = median(running.slice(-span).map((s) => s.rssBytes))
  const p99s = samples.filter((s) => s.phase === 'run').map((s) => s.delayP99Ms).sort((a, b) => a - b)
  const unexplained = outcomes.filter((o) => !o.expected)
  const unexplained5xx = unexplained.filter((o) => typeof o.status === 'number' && o.status >= 500)
  const wrong = outcomes.filter((o) => o.correct === false)
  const growth = late / early - 1

  const failures: string[] = []
  if (!report.serverAlive) failures.push('the server died during the run')
  if (unexplained.length > 0) failures.push(`${unexplained.length} unexplained answers (${unexplained5xx.length} of them 5xx): ${[...new Set(unexplained.map((o) => `${o.scenario} -> ${o.status}`))].join(', ')}`)
  if (wrong.length > 0) failures.push(`${wrong.length} wrong results`)
  if (!(growth <= RSS_GROWTH_LIMIT)) failures.push(`RSS grew ${(growth * 100).toFixed(1)}% from the start of the run to its end (limit ${RSS_GROWTH_LIMIT * 100}%)`)

  const markdown = `## Soak: ${report.minutes} min, concurrency ${report.concurrency}${report.withFaults ? ', worker faults on' : ''}

Requests by scenario and status (\`hung-up\`: the client disconnected on purpose):

${statusTable}

| measure | after warm-up | start of run (median of first ${span} readings) | peak | end of run (median of last ${span}) | after the run |
| --- | ---: | ---: | ---: | ---: | ---: |
| RSS | ${warm === undefined ? '?' : mib(warm.rssBytes)} | ${mib(early)} | ${mib(peak('rssBytes'))} | ${mib(late)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%) | ${last === undefined ? '?' : mib(last.rssBytes)} |
| heap used | ${warm === undefined ? '?' : mib(warm.heapUsedBytes)} | ${mib(median(running.slice(0, span).map((s) => s.heapUsedBytes)))} | ${mib(peak('heapUsedBytes'))} | ${mib(median(running.slice(-span).map((s) => s.heapUsedBytes)))} | ${last === undefined ? '?' : mib(last.heapUsedBytes)} |

RSS is read every 5 s from \`/probe\`; the pass mark is the end-of-run median within ${RSS_GROWTH_LIMIT * 100}% of the start-of-run median.

- event-loop delay p99 (per 5 s window, from /probe): median ${p99s[Math.floor(p99s.length / 2)] ?? '?'} ms, worst ${p99s.at(-1) ?? '?'} ms
- worker threads replaced (aborts and faults): ${last?.threadsReplaced ?? '?'}; pool threads at the end: ${last?.threads ?? '?'}
- requests: ${outcomes.length}; wrong results: ${wrong.length}; unexplained 5xx: ${unexplained5xx.length}; unexplained other: ${unexplained.length - unexplained5xx.length}
- server: ${report.serverAlive ? 'up throughout' : 'DIED'}, exit after SIGTERM ${JSON.stringify(report.exit)}

**${failures.length === 0 ? 'PASS' : `FAIL: ${failures.join('; ')}`}**
`
  return { markdown, failures }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!
}
