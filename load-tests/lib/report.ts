import { IN_PLACE, type LoadTestOptions } from './args.js'
import type { TargetRun } from './run-target.js'
import { percentile, ratio } from './stats.js'

export interface MachineInfo {
  node: string
  cores: number
  cpu: string
  /** 1, 5 and 15 minute load averages when the run began and ended. */
  loadAverage: { before: number[], after: number[] }
  startedAt: string
}

export interface Ratio {
  name: string
  value: number
  /** The issue's target, as text, and whether the value meets it (undefined when not applicable). */
  target?: string
  met?: boolean
}

/** Tasks this small are the "tiny task" case of the targets, where the pool must not lose much. */
const TINY_TERMS = 10_000

/** Event-loop CPU microseconds per answered request; NaN without /proc figures or for a peer. */
export function loopCpuPerRequestUs (run: TargetRun | undefined): number {
  return run?.cpu === undefined ? Number.NaN : ratio(run.cpu.serverMainMs * 1000, run.load.ok)
}

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50)

interface RoundRatio {
  name: string
  value: number
  target?: string
  meets?: (value: number) => boolean
}

/** The ratios of one round: its first pool, inline and in-place runs (the first variant's), and its peers. */
function compareRound (runs: TargetRun[], terms: number): RoundRatio[] {
  const pool = runs.find((run) => run.target === 'pool')
  const inline = runs.find((run) => run.target === 'inline')
  const inPlace = runs.find((run) => run.target === IN_PLACE)
  const peers = runs.filter((run) => run.kind === 'peer')
  const p99 = (run: TargetRun | undefined, phase: 'idle' | 'busy') => run?.probe[phase].rttMs.p99 ?? Number.NaN
  const tiny = terms <= TINY_TERMS
  return [
    { name: 'pool / inline throughput', value: ratio(pool?.load.requestsPerSecond ?? Number.NaN, inline?.load.requestsPerSecond ?? Number.NaN), target: tiny ? '>= 0.8x' : '>= 1.7x', meets: (v) => v >= (tiny ? 0.8 : 1.7) },
    { name: 'pool probe p99, busy / idle', value: ratio(p99(pool, 'busy'), p99(pool, 'idle')), target: '<= 2x', meets: (v) => v <= 2 },
    { name: 'inline probe p99, busy / idle', value: ratio(p99(inline, 'busy'), p99(inline, 'idle')), target: '>= 10x', meets: (v) => v >= 10 },
    { name: 'pool busy probe p99 / inline busy probe p99', value: ratio(p99(pool, 'busy'), p99(inline, 'busy')) },
    ...(inPlace === undefined
      ? []
      : [{ name: `pool event-loop CPU per request / ${IN_PLACE} (${inPlace.terms} terms)`, value: ratio(loopCpuPerRequestUs(pool), loopCpuPerRequestUs(inPlace)), target: '<= 1.5x', meets: (v: number) => v <= 1.5 }]),
    ...peers.flatMap((peer) => [
      { name: `pool / ${peer.target} throughput`, value: ratio(pool?.load.requestsPerSecond ?? Number.NaN, peer.load.requestsPerSecond), target: '>= 1.0x', meets: (v: number) => v >= 1 },
      { name: `pool busy probe p99 / ${peer.target} busy probe p99`, value: ratio(p99(pool, 'busy'), p99(peer, 'busy')), target: '<= 1.0x', meets: (v: number) => v <= 1 }
    ])
  ]
}

/**
 * The ratios the issue's targets are stated in; NaN where a run is missing. With an in-place run,
 * the event-loop cost of offloading; with peers, the pool server against each. Over several rounds,
 * each ratio is taken within a round (its runs ran back to back), then the median over rounds.
 */
export function compare (runs: TargetRun[], terms: number): Ratio[] {
  const rounds = [...new Set(runs.map((run) => run.round ?? 1))]
  const perRound = rounds.map((round) => compareRound(runs.filter((run) => (run.round ?? 1) === round), terms))
  return perRound[0]!.map(({ name, target, meets }, i) => {
    const value = median(perRound.map((ratios) => ratios[i]!.value))
    return { name, value, ...(target === undefined ? {} : { target }), ...(meets === undefined || Number.isNaN(value) ? {} : { met: meets(value) }) }
  })
}

/** One variant against the first, for one executor: throughput per round and the median of the per-round ratios. */
export interface VariantRatio {
  executor: string
  variant: string
  baseline: string
  /** 2xx req/s of this variant and of the baseline, round by round. */
  requestsPerSecond: number[]
  baselineRequestsPerSecond: number[]
  /** Median over rounds of (this variant / baseline) throughput, each round's pair run back to back. */
  medianRatio: number
  /** The rounds where neither run shared the machine with other busy processes (see `isQuiet`), and their median ratio. */
  quietRounds: number[]
  quietMedianRatio: number
  /**
   * Median event-loop CPU per 2xx response, µs, of this variant and the baseline (from /proc): what a
   * change costs the event loop, less moved by other processes than throughput is. NaN without figures.
   */
  eventLoopUs: number
  baselineEventLoopUs: number
}

/**
 * A run no other process disturbed: under a tenth of a core used by others during its load phase
 * (the summary calls a run above that distorted). Without CPU figures a run counts as quiet.
 */
export function isQuiet (run: TargetRun): boolean {
  return run.cpu === undefined || run.cpu.othersMs / (run.phases.loadEnd - run.phases.loadStart) < 0.1
}

/** Each variant's throughput against the first variant's, per executor; empty without variants. */
export function compareVariants (runs: TargetRun[], options: Pick<LoadTestOptions, 'variants' | 'executors'>): VariantRatio[] {
  const [baseline, ...others] = options.variants
  if (baseline === undefined) return []
  return options.executors.flatMap((executor) => others.map((variant) => {
    const byRound = (name: string) => runs.filter((run) => run.target === executor && run.variant === name)
      .sort((a, b) => (a.round ?? 1) - (b.round ?? 1))
    const mine = byRound(variant.name)
    const theirs = byRound(baseline.name)
    const ratios = mine.map((run, i) => ratio(run.load.requestsPerSecond, theirs[i]?.load.requestsPerSecond ?? Number.NaN))
    const quiet = mine.flatMap((run, i) => isQuiet(run) && theirs[i] !== undefined && isQuiet(theirs[i]) ? [i] : [])
    return {
      executor,
      variant: variant.name,
      baseline: baseline.name,
      requestsPerSecond: mine.map((run) => run.load.requestsPerSecond),
      baselineRequestsPerSecond: theirs.map((run) => run.load.requestsPerSecond),
      medianRatio: median(ratios),
      quietRounds: quiet.map((i) => mine[i]!.round ?? 1),
      quietMedianRatio: median(quiet.map((i) => ratios[i]!)),
      eventLoopUs: median(mine.map(loopCpuPerRequestUs)),
      baselineEventLoopUs: median(theirs.map(loopCpuPerRequestUs))
    }
  }))
}

const ms = (value: number) => Number.isNaN(value) ? 'n/a' : value < 0.1 ? value.toFixed(4) : value < 10 ? value.toFixed(2) : value.toFixed(1)
// Three decimals, so a ratio just under its target never reads as exactly the target.
const times = (value: number) => Number.isNaN(value) ? 'n/a' : `${value.toFixed(3)}x`
const loads = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ')

const perRequest = (run: TargetRun, cpuMs: number) => Number.isNaN(cpuMs) ? 'n/a' : (cpuMs * 1000 / run.load.ok).toFixed(0)
const fraction = (value: number) => Number.isNaN(value) ? 'n/a' : value.toFixed(2)

function cores (run: TargetRun, cpu: NonNullable<TargetRun['cpu']>): string {
  const wallMs = run.phases.loadEnd - run.phases.loadStart
  const server = (Number.isNaN(cpu.serverMainMs) ? 0 : cpu.serverMainMs) + cpu.serverOtherMs
  return [server, cpu.clientMs + cpu.samplerMs, cpu.othersMs].map((ms) => (ms / wallMs).toFixed(2)).join(' / ')
}

function table (header: string[], rows: string[][]): string {
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** The Markdown summary: setup, the ratios against the issue's targets, then every figure per run. */
export function markdownSummary (options: LoadTestOptions, machine: MachineInfo, runs: TargetRun[], ratios: Ratio[], variantRatios: VariantRatio[] = []): string {
  const rows: Array<[string, (run: TargetRun) => string]> = [
    ['terms per request', (run) => run.terms.toLocaleString('en-US')],
    ['throughput, 2xx req/s', (run) => run.load.requestsPerSecond.toFixed(0)],
    ['requests: 2xx / non-2xx / errors / timeouts', (run) => `${run.load.ok} / ${run.load.non2xx} / ${run.load.errors} / ${run.load.timeouts}`],
    ['wrong results (each 200 checked against the closed form)', (run) => String(run.load.wrong)],
    ['request latency p50 / p99, ms (client)', (run) => `${ms(run.load.latencyMs.p50)} / ${ms(run.load.latencyMs.p99)}`],
    ['handler time p50 / p99, ms (Server-Timing total)', (run) => `${ms(run.load.serverTotalMs.p50)} / ${ms(run.load.serverTotalMs.p99)}`],
    ['kernel time p50 / p99, ms (Server-Timing kernel)', (run) => `${ms(run.load.kernelMs.p50)} / ${ms(run.load.kernelMs.p99)}`],
    ['kernel ns/term (p50)', (run) => Number.isNaN(run.load.kernelMs.p50) ? 'n/a' : (run.load.kernelMs.p50 * 1e6 / run.terms).toFixed(3)],
    ['probe round trip idle p50 / p99, ms', (run) => `${ms(run.probe.idle.rttMs.p50)} / ${ms(run.probe.idle.rttMs.p99)}`],
    ['probe round trip busy p50 / p99 / max, ms', (run) => `${ms(run.probe.busy.rttMs.p50)} / ${ms(run.probe.busy.rttMs.p99)} / ${ms(run.probe.busy.rttMs.max)}`],
    ['probe busy p99 from its slot, ms', (run) => ms(run.probe.busy.fromSlotMs.p99)],
    ['probes idle / busy (failed)', (run) => `${run.probe.idle.rttMs.count} / ${run.probe.busy.rttMs.count} (${run.probe.idle.failed + run.probe.busy.failed})`],
    ['server event-loop delay p99, ms (its own monitor)', (run) => ms(run.server.loopDelayP99Ms)],
    ['server event-loop / pool utilization', (run) => `${fraction(run.server.loopUtilization)} / ${fraction(run.server.poolUtilization)}`],
    ['server CPU per request, µs: event loop / other threads', (run) => run.cpu === undefined ? 'n/a' : `${perRequest(run, run.cpu.serverMainMs)} / ${perRequest(run, run.cpu.serverOtherMs)}`],
    ['load generator CPU per request, µs', (run) => run.cpu === undefined ? 'n/a' : perRequest(run, run.cpu.clientMs)],
    [`cores busy: server / load generator and sampler / other processes (of ${machine.cores})`, (run) => run.cpu === undefined ? 'n/a' : cores(run, run.cpu)],
    ['load average before / after', (run) => `${loads(run.loadAverage.before)} / ${loads(run.loadAverage.after)}`]
  ]
  const busiestOthers = Math.max(0, ...runs.map((run) => run.cpu === undefined ? 0 : run.cpu.othersMs / (run.phases.loadEnd - run.phases.loadStart)))
  // Other processes' CPU time on the same cores distorts every ratio; say so instead of letting it pass for a result.
  const noisy = busiestOthers > 0.1 * machine.cores
    ? `\n\n**Other processes kept up to ${busiestOthers.toFixed(2)} of the ${machine.cores} cores busy during a load phase: these figures are distorted; rerun on a quiet machine.**`
    : ''
  const extraEnv = Object.entries(options.serverEnv).map(([name, value]) => `${name}=${value}`).join(' ')
  const variantSection = variantRatios.length === 0
    ? ''
    : `\n## Variants\n\n${options.variants.map((v) => `- **${v.name}**: ${[...Object.entries(v.env).map(([k, value]) => `${k}=${value}`), ...(v.entry === undefined ? [] : [`server ${v.entry}`])].join(' ') || '(no change)'}`).join('\n')}\n\n${
      table(['executor', 'variant / baseline', 'req/s by round', 'baseline req/s by round', 'median ratio', 'undisturbed rounds', 'their median ratio', 'event-loop µs per request (median)'], variantRatios.map((r) => [
        r.executor, `${r.variant} / ${r.baseline}`, r.requestsPerSecond.map((v) => v.toFixed(0)).join(', '),
        r.baselineRequestsPerSecond.map((v) => v.toFixed(0)).join(', '), times(r.medianRatio),
        r.quietRounds.length === 0 ? 'none' : r.quietRounds.join(', '), times(r.quietMedianRatio),
        `${r.eventLoopUs.toFixed(0)} / ${r.baselineEventLoopUs.toFixed(0)}`
      ]))}\n\nA round is undisturbed when other processes used under a tenth of a core during both of its load phases.\n`
  const peers = [...new Map(runs.filter((run) => run.kind === 'peer').map((run) => [run.target, run])).values()]
  const inPlace = runs.find((run) => run.target === IN_PLACE)
  const others = [
    ...(inPlace === undefined ? [] : [`The ${IN_PLACE} run loads the pool server with ${inPlace.terms}-term ranges, which it sums on its event loop: the baseline for the event-loop cost of offloading.`]),
    ...(peers.length === 0 ? [] : [`Peers, loaded and probed the same way after the service: ${peers.map((peer) => `${peer.target} (\`${peer.command}\`)`).join(', ')}. A peer's event loop is not told apart from its other threads: its CPU shows under "other threads".`])
  ].join(' ')

  return `# Load test: ${[...new Set(runs.map((run) => run.target))].join(' vs ')}

${machine.startedAt}: Node ${machine.node}, ${machine.cores} cores (${machine.cpu}); load average ${loads(machine.loadAverage.before)} at the start, ${loads(machine.loadAverage.after)} at the end.

Each request sums i*i over [0, ${options.terms}); autocannon with ${options.connections} connections for ${options.durationS} s per server after ${options.warmupS} s of warm-up, on the same machine as the server; every 200 answer's result is checked. A separate process sends GET /probe every ${options.probeIntervalMs} ms over one keep-alive connection: ${options.idleS} s idle, then throughout the load.${options.threads === undefined ? '' : ` POOL_THREADS=${options.threads}.`}${extraEnv === '' ? '' : ` Server environment: ${extraEnv}.`}${options.nodeArgs.length === 0 ? '' : ` Node flags: ${options.nodeArgs.join(' ')}.`}${others === '' ? '' : ` ${others}`}${options.quick ? '\n\n**--quick run: it proves the tool works; its numbers are too short to compare.**' : ''}${noisy}

## Ratios

${table(['ratio', 'measured', 'issue target', ''], ratios.map((r) => [r.name, times(r.value), r.target ?? '', r.met === undefined ? '' : r.met ? 'met' : 'missed']))}

${variantSection}
## Per run

${table(['', ...runs.map((run) => run.name)], rows.map(([name, cell]) => [name, ...runs.map(cell)]))}

Probe p99 is the 99th percentile of the probe round trips sent during the phase. "From its slot" also counts the time a probe waited to be sent because the one before it ran past its slot. Kernel time is measured inside the server around the task function (in the worker, or on the event loop for inline) and reported in the \`Server-Timing\` header; handler time is the route's own wall time. CPU times come from /proc over the load window (10 ms ticks); "other threads" of the server are the pool's workers plus V8's GC and compiler threads.
`
}
