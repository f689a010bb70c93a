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
