import { availableParallelism, cpus } from 'node:os'
import { poolOverheadBench } from './pool-overhead.js'
import { sumOfSquaresKernelBench } from './sum-of-squares-kernel.js'

/**
 * `npm run bench`: every benchmark, as Markdown tables of medians. Figures are for comparing side by
 * side within one run; a shared 2-core machine moves absolute numbers by 10-20% between runs.
 */
const suites: Array<[string, () => Promise<string>]> = [
  ['Sum-of-squares kernel (one thread)', sumOfSquaresKernelBench],
  ['Worker pool round-trip overhead (2 threads)', poolOverheadBench]
]

const only = process.argv.slice(2)
console.log(`# Benchmarks\n\nNode ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${new Date().toISOString()}\n`)
for (const [title, suite] of suites) {
  if (only.length > 0 && !only.some((word) => title.toLowerCase().includes(word.toLowerCase()))) continue
  console.log(`## ${title}\n\n${await suite()}\n`)
}
