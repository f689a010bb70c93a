/**
 * `node dist/load-tests/cpu-profile.js FILE.cpuprofile [FROM_S TO_S [REQUESTS]]`: where a thread's
 * CPU time went, from a profile written by `--cpu-prof` (for instance `npm run loadtest --
 * --executors pool --node-arg=--cpu-prof --node-arg=--cpu-prof-dir=/tmp/prof`). Without a window it
 * prints the busy milliseconds of each second, to find the load phase; with one, self time by
 * package (or Node.js module, or project file) and by function, per request when REQUESTS is given.
 */
import { readFileSync } from 'node:fs'

interface ProfileNode { id: number, callFrame: { functionName: string, url: string, lineNumber: number } }
interface Profile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

const [file, fromArg, toArg, requestsArg] = process.argv.slice(2)
if (file === undefined) throw new Error('usage: cpu-profile.js FILE.cpuprofile [FROM_S TO_S [REQUESTS]]')
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]))

// Sample i was taken timeDeltas[i] after the one before it, and stands for the time until the next.
let clock = 0
const samples = profile.samples.map((id, i) => {
  clock += profile.timeDeltas[i] ?? 0
  return { frame: frames.get(id)!, atS: clock / 1e6, us: profile.timeDeltas[i + 1] ?? 0 }
})
const idle = (name: string) => name === '(idle)'

/** The package, Node.js module or project file a frame belongs to. */
function whereOf ({ functionName, url }: ProfileNode['callFrame']): string {
  if (functionName.startsWith('(')) return functionName
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
  if (inPackage !== null) return inPackage[1]!
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/')
  return url === '' ? '(native)' : url.replace(/^.*\/dist\//, '')
}

if (fromArg === undefined) {
  const perSecond: number[] = []
  for (const sample of samples) {
    if (!idle(sample.frame.functionName)) perSecond[Math.floor(sample.atS)] = (perSecond[Math.floor(sample.atS)] ?? 0) + sample.us / 1000
  }
  console.log(Array.from(perSecond, (ms, second) => `${second} s: ${Math.round(ms ?? 0)} ms`).join('\n'))
} else {
  const [from, to, requests] = [Number(fromArg), Number(toArg), Number(requestsArg ?? 0)]
  const byWhere = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let busyUs = 0
  for (const { frame, atS, us } of samples) {
    if (atS < from || atS >= to || idle(frame.functionName)) continue
    busyUs += us
    const where = whereOf(frame)
    const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url === '' ? '' : `:${frame.lineNumber + 1}`}`
    byWhere.set(where, (byWhere.get(where) ?? 0) + us)
    byFunction.set(name, (byFunction.get(name) ?? 0) + us)
  }
  const cost = (us: number) => requests > 0 ? `${(us / requests).toFixed(1)} µs/request` : `${(us / 1000).toFixed(1)} ms`
  const top = (totals: Map<string, number>, count: number) => [...totals].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([name, us]) => `| ${name} | ${(100 * us / busyUs).toFixed(1)}% | ${cost(us)} |`).join('\n')
  console.log(`${from}-${to} s: busy ${cost(busyUs)}\n\n| where | share | time |\n| --- | ---: | ---: |\n${top(byWhere, 20)}\n\n| function | share | time |\n| --- | ---: | ---: |\n${top(byFunction, 30)}`)
}
