/**
 * `npm run bench:vs-peer -- --peer go='/tmp/go-peer bench' [--rounds N]`: the service's kernels
 * (JavaScript and WebAssembly) against a peer's own kernel benchmark, each in a process of its own
 * with nothing else running in it, alternating, in a rotating order. This machine's speed drifts by
 * up to 2x between minutes, so each figure is a median over rounds, and the ratios are taken within
 * each round before their median is. The peer's command prints lines with `<number> ns/term`.
 *
 * `--kernel exact` compares the exact sum and dot instead (bench/exact-vs-peer.ts), for example
 * against xsum: `--kernel exact --peer xsum=/tmp/xsum-driver`.
 */
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { exactVsPeer } from './exact-vs-peer.js'
import { formatTable } from './measure.js'
import { median, parsePeer, rotated, run, type Contestant } from './peer-runs.js'

const child = fileURLToPath(new URL('./kernel-child.js', import.meta.url))

const { values } = parseArgs({
  options: {
    peer: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '7' },
    kernel: { type: 'string', default: 'sum-of-squares' },
    sizes: { type: 'string', default: '1e6,1e7' },
    data: { type: 'string' }
  }
})
const rounds = Number(values.rounds)
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds takes a positive whole number, got ${values.rounds}`)
const peers = (values.peer ?? []).map(parsePeer)

/** The median of the ns/term lines one run prints. */
async function once (contestant: Contestant): Promise<number> {
  const { stdout } = await run(contestant.file, contestant.args, { timeout: 300_000 })
  const figures = [...stdout.matchAll(/([\d.]+) ns\/term/g)].map((match) => Number(match[1]))
  if (figures.length === 0) throw new Error(`${contestant.name} printed no "<number> ns/term" line:\n${stdout}`)
  return median(figures)
}

async function sumOfSquaresVsPeer (): Promise<void> {
  const contestants: Contestant[] = [
    { name: 'js', file: process.execPath, args: [child, 'js'] },
    { name: 'wasm', file: process.execPath, args: [child, 'wasm'] },
    ...peers
  ]
  const loadBefore = loadavg()
  const startedAt = new Date().toISOString()
  const figures = new Map(contestants.map((contestant) => [contestant.name, [] as number[]]))
  for (let round = 0; round < rounds; round++) {
    const line: string[] = []
    for (const contestant of rotated(contestants, round)) {
      const figure = await once(contestant)
      figures.get(contestant.name)!.push(figure)
      line.push(`${contestant.name} ${figure.toFixed(3)}`)
    }
    console.error(`round ${round + 1}/${rounds}: ${line.join(', ')} ns/term; load ${loadavg()[0]!.toFixed(2)}`)
  }

  const reference = contestants.at(-1)!.name
  const rows = contestants.map(({ name }) => {
    const own = figures.get(name)!
    const perRound = own.map((figure, round) => figure / figures.get(reference)![round]!)
    return [name, median(own).toFixed(3), Math.min(...own).toFixed(3), Math.max(...own).toFixed(3), `${median(perRound).toFixed(2)}x`]
  })
  console.log(`# Sum-of-squares kernel against ${contestants.length > 2 ? reference : 'itself'}

${startedAt}, Node ${process.version}: ${rounds} alternating rounds; each figure is the median of the five lines one run prints (10^7 terms from 10^12, ten calls a line). Load average ${loadBefore.map((v) => v.toFixed(2)).join(' ')} before, ${loadavg().map((v) => v.toFixed(2)).join(' ')} after.

${formatTable(['kernel', 'median ns/term', 'fastest round', 'slowest round', `ns/term vs ${reference}, median of per-round ratios`], rows)}

Per round (ns/term): ${contestants.map(({ name }) => `${name} ${figures.get(name)!.map((figure) => figure.toFixed(3)).join(' ')}`).join('; ')}.
`)
}

if (values.kernel === 'exact') {
  const sizes = values.sizes.split(',').map(Number)
  if (sizes.some((size) => !Number.isInteger(size) || size < 1)) throw new Error(`--sizes takes whole numbers such as 1e6,1e7, got ${values.sizes}`)
  console.log(await exactVsPeer({ peers, rounds, sizes, dataDir: values.data }))
} else if (values.kernel === 'sum-of-squares') {
  await sumOfSquaresVsPeer()
} else {
  throw new Error(`--kernel takes sum-of-squares or exact, got ${values.kernel}`)
}
