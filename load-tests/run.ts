/**
 * `npm run loadtest`: the pool and inline executors side by side under the same compute load,
 * with the event loop's responsiveness measured from outside. See `--help` and docs/performance.md.
 */
import { once } from 'node:events'
import { copyFile, mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join, relative } from 'node:path'
import { parseLoadTestArgs, targetsOf, usage, type LoadTestOptions } from './lib/args.js'
import { chartSpec, renderSvg } from './lib/chart.js'
import { runningPeers, signalPeer } from './lib/peer-process.js'
import { runningSamplers } from './lib/probe-sampler-client.js'
import { compare, compareVariants, markdownSummary, type MachineInfo } from './lib/report.js'
import { runTarget, type TargetRun } from './lib/run-target.js'
import { runningServers } from '../test/support/server-process.js'

function parseOrExit (): LoadTestOptions {
  try {
    const options = parseLoadTestArgs(process.argv.slice(2))
    if (options !== 'help') return options
    console.log(usage)
    process.exit(0)
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`)
    process.exit(2)
  }
}

function liveChildren () {
  return [...runningServers, ...runningSamplers, ...runningPeers].filter((child) => child.exitCode === null && child.signalCode === null)
}

/** Kills every child still alive, and every peer's process group. Synchronous, so it also works in an 'exit' handler. */
function killChildren (signal: NodeJS.Signals) {
  for (const child of liveChildren()) child.kill(signal)
  for (const peer of runningPeers) signalPeer(peer, signal)
}

/** SIGTERM to every child still alive, SIGKILL to any still there after `graceMs`; resolves once all have exited. */
async function stopChildren (graceMs = 5000) {
  const children = liveChildren()
  const exits = children.map((child) => once(child, 'exit'))
  killChildren('SIGTERM')
  const killer = setTimeout(() => killChildren('SIGKILL'), graceMs)
  await Promise.all(exits)
  clearTimeout(killer)
  // A peer's server may outlive its shell; its process group gets the same treatment.
  for (const peer of runningPeers) signalPeer(peer, 'SIGKILL')
}

const options = parseOrExit()
const abort = new AbortController()
const onSignal = (signal: NodeJS.Signals) => {
  if (abort.signal.aborted) {
    // A second Ctrl-C: no more waiting for graceful shutdowns.
    killChildren('SIGKILL')
    process.exit(130)
  }
  console.error(`\n${signal}: stopping the load and the servers`)
  abort.abort(new Error(`interrupted by ${signal}`))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
process.on('exit', () => killChildren('SIGKILL'))

// Every service target once per variant per round, then the peers (which have no variants); even
// rounds take the variants in reverse, so a drift in the machine's speed does not always favour one.
const targets = targetsOf(options)
const variants = options.variants.length === 0 ? [undefined] : options.variants
const plan = Array.from({ length: options.rounds }, (_, i) => i + 1).flatMap((round) => [
  ...(round % 2 === 0 ? [...variants].reverse() : variants).flatMap((variant) =>
    targets.filter((target) => target.kind === 'service').map((target) => ({ target, variant, round }))),
  ...targets.filter((target) => target.kind === 'peer').map((target) => ({ target, variant: undefined, round }))
])

// Bounded no matter what hangs: twice the planned time, plus start-up allowances.
const plannedS = plan.length * (options.warmupS + options.idleS + options.durationS + options.tailS)
const deadline = setTimeout(() => abort.abort(new Error(`still running after ${Math.round(2 * plannedS + 60)} s`)), (2 * plannedS + 60) * 1000)
deadline.unref()

const log = (line: string) => console.log(`${((performance.now()) / 1000).toFixed(1).padStart(5)} s  ${line}`)

async function main (): Promise<string[]> {
  const machine: MachineInfo = {
    node: process.version,
    cores: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    loadAverage: { before: loadavg(), after: [] },
    startedAt: new Date().toISOString()
  }
  log(`load test: ${plan.length} runs (${targets.map((target) => target.name).join(', ')}${options.variants.length === 0 ? '' : ` x ${options.variants.map((v) => v.name).join(', ')}`}${options.rounds > 1 ? ` x ${options.rounds} rounds` : ''}), about ${Math.round(plannedS + 2 * plan.length)} s; load average ${machine.loadAverage.before.map((v) => v.toFixed(2)).join(' ')}`)

  const runs: TargetRun[] = []
  for (const { target, variant, round } of plan) {
    runs.push(await runTarget(target, options, abort.signal, log, variant, round))
  }
  machine.loadAverage.after = loadavg()

  const ratios = compare(runs, options.terms)
  const variantRatios = compareVariants(runs, options)
  const summary = markdownSummary(options, machine, runs, ratios, variantRatios)
  const svg = await renderSvg(chartSpec(options, runs, ratios, machine))

  await mkdir(options.outDir, { recursive: true })
  const stamp = machine.startedAt.replace(/[:.]/g, '-')
  const files = {
    json: join(options.outDir, `loadtest-${stamp}.json`),
    md: join(options.outDir, `loadtest-${stamp}.md`),
    svg: join(options.outDir, `loadtest-${stamp}.svg`)
  }
  await writeFile(files.json, JSON.stringify({ options, machine, ratios, variantRatios, runs }, null, 2))
  await writeFile(files.md, summary)
  await writeFile(files.svg, svg)
  for (const [kind, file] of Object.entries(files)) await copyFile(file, join(options.outDir, `latest.${kind}`))

  console.log(`\n${summary}`)
  return Object.values(files).map((file) => relative(process.cwd(), file))
}

try {
  const written = await main()
  log(`wrote ${written.join(', ')} (and latest.* beside them)`)
} catch (error) {
  console.error(abort.signal.aborted ? `load test stopped: ${(abort.signal.reason as Error).message}` : error)
  process.exitCode = abort.signal.aborted && /interrupted/.test(String(abort.signal.reason)) ? 130 : 1
} finally {
  await stopChildren()
}
