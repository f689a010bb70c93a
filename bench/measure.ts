import { performance } from 'node:perf_hooks'
import { measure } from 'mitata'

export interface BenchRow {
  name: string
  /** Median time of one call, in nanoseconds. */
  medianNs: number
  /** What one call processes (terms, values, bytes...), to turn time into a rate. */
  units: number
}

/** Median of mitata's samples for `fn`: robust to the noise of a shared machine. */
export async function medianOf (name: string, units: number, fn: () => unknown, minCpuMs = 1000): Promise<BenchRow> {
  const stats = await measure(fn, { min_cpu_time: minCpuMs * 1e6 })
  return { name, medianNs: stats.p50, units }
}

export function formatTable (header: string[], rows: string[][]): string {
  const lines = [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`)
  return lines.join('\n')
}

/**
 * Median wall time of `runs` calls of an async `timed`, after two untimed warm-ups; `prepare` runs
 * untimed before each call. For work of tens to hundreds of milliseconds (HTTP requests, pool round
 * trips), where mitata's minimum sample count would make a suite take minutes.
 */
export async function medianMs<T> (runs: number, prepare: () => T, timed: (prepared: T) => Promise<unknown>): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs + 2; i++) {
    const prepared = prepare()
    const started = performance.now()
    await timed(prepared)
    if (i >= 2) times.push(performance.now() - started)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}
