import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { writeDataSets } from './exact-data.js'
import { formatTable } from './measure.js'
import { median, rotated, run, type Contestant } from './peer-runs.js'

const child = fileURLToPath(new URL('./exact-kernel-child.js', import.meta.url))

interface Figure { ns: number, bits: string }
/** Per contestant, per data set: one figure a round. */
type Figures = Map<string, Map<string, Figure[]>>

/** One run of a contestant over every data set: the median of each set's five lines, and its bits. */
async function once (contestant: Contestant): Promise<Map<string, Figure>> {
  const { stdout } = await run(contestant.file, contestant.args, { timeout: 900_000, maxBuffer: 1 << 24 })
  const lines = new Map<string, { ns: number[], bits: Set<string> }>()
  for (const [, name, ns, bits] of stdout.matchAll(/^(\S+) ([\d.]+) ns\/(?:value|pair) ([0-9a-f]{16})$/gm)) {
    const entry = lines.get(name!) ?? { ns: [], bits: new Set() }
    entry.ns.push(Number(ns))
    entry.bits.add(bits!)
    lines.set(name!, entry)
  }
  if (lines.size === 0) throw new Error(`${contestant.name} printed no "<name> <number> ns/value <bits>" line:\n${stdout}`)
  return new Map([...lines].map(([name, { ns, bits }]) => [name, { ns: median(ns), bits: [...bits].join('/') }]))
}

export interface ExactVsPeerOptions { peers: Contestant[], rounds: number, sizes: number[], dataDir: string | undefined }

/**
 * The exact sum (ns/value) and dot (ns/pair) of the service against peers such as xsum, on the same
 * files, alternating rounds in a rotating order. A speed ratio is given only where both answers have
 * the same bits: the JavaScript kernel's answer is the reference.
 */
export async function exactVsPeer ({ peers, rounds, sizes, dataDir }: ExactVsPeerOptions): Promise<string> {
  const peerSets = writeDataSets(dataDir, sizes)
  // /v1/stats's chunk over each sum file's values: ours only, for the stats-against-dot table.
  const statsSets = peerSets.filter((set) => set.kind === 'sum').map((set) => ({ ...set, kind: 'stats', name: set.name.replace(/^sum-/, 'stats-') }))
  const sets = [...peerSets, ...statsSets]
  const peerInputs = peerSets.map((set) => `${set.kind}:${set.path}`)
  const ownInputs = sets.map((set) => `${set.kind}:${set.path}`)
  const contestants: Contestant[] = [
    ...['js', 'wasm', 'wasm-in-memory'].map((name) => ({ name, file: process.execPath, args: [child, name, ...ownInputs] })),
    ...peers.map((peer) => ({ ...peer, args: [...peer.args, ...peerInputs] }))
  ]
  const loadBefore = loadavg()
  const startedAt = new Date().toISOString()
  const figures: Figures = new Map(contestants.map(({ name }) => [name, new Map()]))
  for (let round = 0; round < rounds; round++) {
    for (const contestant of rotated(contestants, round)) {
      for (const [name, figure] of await once(contestant)) {
        const own = figures.get(contestant.name)!
        own.set(name, [...(own.get(name) ?? []), figure])
      }
    }
    console.error(`round ${round + 1}/${rounds} done; load ${loadavg()[0]!.toFixed(2)}`)
  }

  const reference = contestants.at(-1)!.name
  const compared = contestants.slice(0, -1).filter(({ name }) => name !== reference)
  const rows = sets.map(({ name }) => {
    const referenceRuns = figures.get(reference)!.get(name)
    const expected = figures.get('js')!.get(name)?.[0]?.bits
    const cells = [name]
    for (const { name: contestant } of contestants) {
      const runs = figures.get(contestant)!.get(name)
      cells.push(runs === undefined ? '-' : median(runs.map((figure) => figure.ns)).toFixed(3))
    }
    for (const { name: contestant } of compared) {
      const runs = figures.get(contestant)!.get(name)
      if (runs === undefined || referenceRuns === undefined) cells.push('-')
      else if (runs.some((figure) => figure.bits !== referenceRuns[0]!.bits)) cells.push(`answers differ: ${runs[0]!.bits} vs ${referenceRuns[0]!.bits}`)
      else cells.push(`${median(runs.map((figure, round) => figure.ns / referenceRuns[round]!.ns)).toFixed(2)}x`)
    }
    cells.push(expected ?? '-')
    return cells
  })
  const header = ['data set', ...contestants.map(({ name }) => `${name} ns`), ...compared.map(({ name }) => `${name} vs ${reference}`), 'bits (js)']
  return `# Exact sum, dot and stats against ${reference}

${startedAt}, Node ${process.version}: ${rounds} alternating rounds; each figure is the median over rounds of the median of the five lines one run prints (about 20 ms of calls a line, in CPU time: on a shared machine a descheduled process is not slower); ratios are medians of per-round ratios, given only where the answers have the same bits. ns per value for sum-* and stats-*, per pair for dot-*. Load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')} before, ${loadavg().map((v) => v.toFixed(2)).join(' ')} after.

${formatTable(header, rows)}

## Stats against the exact dot, same run

A stats chunk's ns per value (the values' exact sum, their squares' exact sum, min and max) against
the exact dot's ns per pair on data of the same distribution and size: the median of per-round ratios.

${formatTable(['data set', 'contestant', 'stats ns/value', 'dot ns/pair', 'stats vs dot'], statsAgainstDot(figures, statsSets.map(({ name }) => name)))}
`
}

/** For each contestant that timed both: stats-D-N against dot-D-N, per round. */
function statsAgainstDot (figures: Figures, statsNames: string[]): string[][] {
  const rows: string[][] = []
  for (const name of statsNames) {
    for (const [contestant, own] of figures) {
      const stats = own.get(name)
      const dot = own.get(name.replace(/^stats-/, 'dot-'))
      if (stats === undefined || dot === undefined) continue
      const ratio = median(stats.map((figure, round) => figure.ns / dot[round]!.ns))
      rows.push([name.replace(/^stats-/, ''), contestant, median(stats.map((f) => f.ns)).toFixed(3), median(dot.map((f) => f.ns)).toFixed(3), `${ratio.toFixed(2)}x`])
    }
  }
  return rows
}
