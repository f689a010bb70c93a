import { dotChunk, mergeDotPartials, naiveDot } from '../src/compute/dot.js'
import { formatTable, medianOf, type BenchRow } from './measure.js'

/**
 * wide: random sign and magnitude over 2^-100..2^100 (as the sum suites). unit: uniform [0, 1).
 * extreme: magnitudes over 2^-1000..2^1000, so that most products overflow or underflow float64.
 * sparse: wide, with nine x in ten zero.
 */
export type PairDistribution = 'wide' | 'unit' | 'extreme' | 'sparse'

function randomValue (distribution: PairDistribution): number {
  switch (distribution) {
    case 'unit': return Math.random()
    case 'extreme': return (Math.random() - 0.5) * 2 ** (Math.floor(Math.random() * 2000) - 1000)
    default: return (Math.random() - 0.5) * 2 ** (Math.floor(Math.random() * 200) - 100)
  }
}

/** `count` pairs laid out as the route receives them: x, then y, in one buffer. */
export function makePairs<T extends Float64Array> (count: number, distribution: PairDistribution, into: T): T {
  for (let i = 0; i < 2 * count; i++) into[i] = distribution === 'sparse' && i < count && Math.random() < 0.9 ? 0 : randomValue(distribution)
  return into
}

/** The same loop written over two arrays: V8 runs it slower than the one-buffer loop of mode=fast. */
function twoArrayLoop (x: Float64Array, y: Float64Array): number {
  let dot = 0
  for (let i = 0; i < x.length; i++) dot += x[i]! * y[i]!
  return dot
}

/** Rounds that alternate naive, exact and two-array runs, so that a noisy stretch of the machine hits all three. */
const ROUNDS = 5

/** The median of the rounds' medians. */
function medianRow (rounds: BenchRow[]): BenchRow {
  const sorted = [...rounds].sort((a, b) => a.medianNs - b.medianNs)
  return sorted[Math.floor(sorted.length / 2)]!
}

/**
 * The exact kernel (one task's work in mode=exact) against the naive loop that mode=fast runs, over
 * the very same pairs, one thread, alternating. Target: exact at most 4x naive.
 */
export async function dotKernelBench (): Promise<string> {
  const rows: Array<{ naive: BenchRow, others: BenchRow[] }> = []
  for (const count of [1e6, 1e7]) {
    for (const distribution of ['wide', 'unit', 'extreme', 'sparse'] as PairDistribution[]) {
      const pairs = makePairs(count, distribution, new Float64Array(2 * count))
      const [x, y] = [pairs.subarray(0, count), pairs.subarray(count)]
      const label = `10^${Math.log10(count)} ${distribution}`
      const runs: BenchRow[][] = [[], [], []]
      for (let round = 0; round < ROUNDS; round++) {
        runs[0]!.push(await medianOf(`naive loop (mode=fast), ${label}`, count, () => naiveDot(pairs, count, 0, count), 300))
        runs[1]!.push(await medianOf(`exact (mode=exact), ${label}`, count, () => mergeDotPartials([dotChunk({ buffer: pairs.buffer, n: count, start: 0, end: count, mode: 'exact' })]), 300))
        runs[2]!.push(await medianOf(`naive loop over two arrays, ${label}`, count, () => twoArrayLoop(x, y), 300))
      }
      const [naive, ...others] = runs.map(medianRow)
      rows.push({ naive: naive!, others })
    }
  }
  return formatTable(['dot kernel, one thread', 'median ms/call', 'ns/pair', 'vs naive, same pairs'], rows.flatMap(({ naive, others }) =>
    [naive, ...others].map((row) => [
      row.name,
      (row.medianNs / 1e6).toFixed(2),
      (row.medianNs / row.units).toFixed(3),
      `${(row.medianNs / naive.medianNs).toFixed(2)}x`
    ])))
}
