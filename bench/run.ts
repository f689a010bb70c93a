import { availableParallelism, cpus, loadavg } from 'node:os'
import { accessLogBench } from './access-log.js'
import { dotKernelBench } from './dot-kernel.js'
import { dotSplitBench } from './dot-split.js'
import { poolOverheadBench } from './pool-overhead.js'
import { requestCostsBench } from './request-costs.js'
import { sumOfSquaresKernelBench } from './sum-of-squares-kernel.js'
import { sumHandoffBench, sumSplitBench } from './sum-handoff.js'
import { sumHttpBench } from './sum-http.js'
import { sumKernelBench } from './sum-kernel.js'

/**
 * `npm run bench`: every benchmark, as Markdown tables of medians. Figures are for comparing side by
 * side within one run; a shared 2-core machine moves absolute numbers by 10-20% between runs.
 */
const suites: Array<[string, () => Promise<string>]> = [
  ['Sum-of-squares kernel (one thread)', sumOfSquaresKernelBench],
  ['Worker pool round-trip overhead (2 threads)', poolOverheadBench],
  ['Sum kernel: exact vs naive (one thread)', sumKernelBench],
  ['Sum hand-off: structured clone vs transfer vs shared memory', sumHandoffBench],
  ['Sum split: one task vs two', sumSplitBench],
  ['Sum over HTTP: octet-stream vs JSON', sumHttpBench],
  ['Dot kernel: exact vs naive (one thread)', dotKernelBench],
  ['Dot split: one task vs two', dotSplitBench],
  ['Access line: cost per request', accessLogBench],
  ['Event-loop pieces of a request, each alone', requestCostsBench]
]

// `npm run bench -- word...` runs the suites whose title has one of those words, whole: `sum` picks the
// Sum suites and not Sum-of-squares, `kernel` picks both kernels.
const only = process.argv.slice(2).map((word) => word.toLowerCase())
const words = (title: string) => title.toLowerCase().split(/[^a-z0-9-]+/)
console.log(`# Benchmarks\n\nNode ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${new Date().toISOString()}\n`)
for (const [title, suite] of suites) {
  if (only.length > 0 && !words(title).some((word) => only.includes(word))) continue
  // On a shared machine the load says how far to trust a table: printed before and after each suite.
  const before = loadavg()[0]!.toFixed(2)
  const table = await suite()
  console.log(`## ${title}\n\n${table}\n\nLoad average (1 min) before ${before}, after ${loadavg()[0]!.toFixed(2)}.\n`)
}
