import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makePairs } from './dot-kernel.js'
import { makeValues, type Distribution } from './sum-data.js'

/** One input of bench/exact-vs-peer.ts: raw little-endian float64 in a file every contestant reads. */
export interface DataSet { name: string, kind: 'sum' | 'dot', path: string, count: number }

export const DISTRIBUTIONS: Distribution[] = ['wide', 'unit', 'extreme', 'sparse']

/**
 * Writes (or reuses) the sum inputs and the dot inputs (x then y) of every distribution and size under
 * `dir`. Files, not seeds, so a peer in another language reads the very same values.
 */
export function writeDataSets (dir: string | undefined, sizes: number[]): DataSet[] {
  const root = dir ?? join(tmpdir(), 'compute-service-kernel-data')
  mkdirSync(root, { recursive: true })
  const sets: DataSet[] = []
  for (const kind of ['sum', 'dot'] as const) {
    for (const count of sizes) {
      for (const distribution of DISTRIBUTIONS) {
        const name = `${kind}-${distribution}-1e${Math.log10(count)}`
        const path = join(root, `${name}.f64`)
        const bytes = (kind === 'dot' ? 16 : 8) * count
        if (!existsSync(path) || statSync(path).size !== bytes) {
          writeFileSync(path, kind === 'sum' ? makeValues(count, distribution) : makePairs(count, distribution, new Float64Array(2 * count)))
        }
        sets.push({ name, kind, path, count })
      }
    }
  }
  return sets
}
