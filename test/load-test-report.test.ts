import { describe, expect, it } from 'vitest'
import { parseLoadTestArgs, type LoadTestOptions } from '../load-tests/lib/args.js'
import { chartSpec, renderSvg } from '../load-tests/lib/chart.js'
import { parseServerTiming } from '../load-tests/lib/drive-load.js'
import { compare, compareVariants, markdownSummary } from '../load-tests/lib/report.js'
import type { ExecutorRun } from '../load-tests/lib/run-executor.js'
import { percentile, summarize } from '../load-tests/lib/stats.js'

const options = parseLoadTestArgs([]) as LoadTestOptions

/** A run whose probes take `idleMs` before the load starts at t = 10 s and `busyMs` during it. */
function fakeRun (executor: 'pool' | 'inline', requestsPerSecond: number, idleMs: number, busyMs: number, variant?: string, round?: number): ExecutorRun {
  const t0 = 1_000_000
  const samples = Array.from({ length: 100 }, (_, i) => {
    const at = t0 + i * 200
    return { at, scheduledAt: at, rttMs: at < t0 + 10_000 ? idleMs : busyMs, status: 200 }
  })
  const probe = (ms: number) => ({ rttMs: summarize([ms]), fromSlotMs: summarize([ms]), failed: 0 })
  const timing = summarize([0.3])
  return {
    name: [executor, variant, round === undefined ? undefined : `#${round}`].filter(Boolean).join(' '),
    executor,
    ...(variant === undefined ? {} : { variant }),
    ...(round === undefined ? {} : { round }),
    env: {},
    phases: { idleStart: t0, loadStart: t0 + 10_000, loadEnd: t0 + 20_000, end: t0 + 20_000 },
    loadAverage: { before: [1, 1, 1], after: [2, 1, 1] },
    warmupRequestsPerSecond: requestsPerSecond,
    load: {
      startedAt: t0 + 10_000,
      endedAt: t0 + 20_000,
      durationS: 10,
      requestsPerSecond,
      ok: requestsPerSecond * 10,
      non2xx: 0,
      errors: 0,
      timeouts: 0,
      latencyMs: timing,
      serverTotalMs: timing,
      kernelMs: timing,
      perSecond: []
    },
    probe: { idle: probe(idleMs), busy: probe(busyMs) },
    server: { loopDelayP99Ms: 1, loopUtilization: 0.5, poolUtilization: 0.9 },
    samples
  }
}

describe('load-test command line', () => {
  it('defaults to the issue\'s setup: 10^6 terms, 4 connections, 20 s, a probe every 20 ms, both executors', () => {
    expect(options).toMatchObject({ terms: 1_000_000, connections: 4, durationS: 20, probeIntervalMs: 20, executors: ['pool', 'inline'], quick: false })
  })

  it('shortens every phase with --quick but keeps explicit values', () => {
    const quick = parseLoadTestArgs(['--quick', '--terms', '1000']) as LoadTestOptions
    expect(quick.warmupS + quick.idleS + quick.durationS + quick.tailS).toBeLessThanOrEqual(7)
    expect(quick.terms).toBe(1000)
  })

  it('takes server environment and Node flags for experiments', () => {
    const parsed = parseLoadTestArgs(['--server-env', 'POOL_THREADS=1', '--node-arg=--trace-deopt', '--executors', 'inline']) as LoadTestOptions
    expect(parsed).toMatchObject({ serverEnv: { POOL_THREADS: '1' }, nodeArgs: ['--trace-deopt'], executors: ['inline'] })
  })

  it('takes server variants to compare in one run, and rounds', () => {
    const parsed = parseLoadTestArgs([
      '--variant', 'info=LOG_LEVEL=info', '--variant', 'main=LOG_LEVEL=warn POOL_THREADS=2 entry:/tmp/main/dist/src/server.js', '--rounds', '3'
    ]) as LoadTestOptions
    expect(parsed.variants).toEqual([
      { name: 'info', env: { LOG_LEVEL: 'info' } },
      { name: 'main', env: { LOG_LEVEL: 'warn', POOL_THREADS: '2' }, entry: '/tmp/main/dist/src/server.js' }
    ])
    expect(parsed.rounds).toBe(3)
  })

  it.each([
    [['--variant', 'a=X=1', '--variant', 'a=X=2']],
    [['--variant', 'noequals']],
    [['--variant', 'a=not-a-pair']],
    [['--rounds', '0']],
    [['--terms', '0']],
    [['--connections', '2.5']],
    [['--executors', 'pool,threads']],
    [['--server-env', 'no-equals-sign']],
    [['--unknown']]
  ])('rejects %j', (argv) => {
    expect(() => parseLoadTestArgs(argv)).toThrow()
  })
})

describe('load-test statistics', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1)
    expect(percentile(values, 50)).toBe(50)
    expect(percentile(values, 99)).toBe(99)
    expect(percentile(values, 100)).toBe(100)
    expect(percentile([7], 99)).toBe(7)
    expect(percentile([], 50)).toBeNaN()
  })

  it('summarizes unsorted values', () => {
    expect(summarize([3, 1, 2])).toEqual({ count: 3, p50: 2, p90: 3, p99: 3, max: 3, mean: 2 })
  })

  it('reads kernel and total time from a Server-Timing header', () => {
    expect(parseServerTiming('kernel;dur=0.312, total;dur=0.451')).toEqual({ kernel: 0.312, total: 0.451 })
    expect(parseServerTiming(['kernel;desc="x";dur=1', 'total;dur=2'])).toEqual({ kernel: 1, total: 2 })
    expect(parseServerTiming(undefined)).toEqual({})
  })
})

describe('load-test report', () => {
  const runs = [fakeRun('pool', 3600, 0.5, 0.8), fakeRun('inline', 2000, 0.5, 6)]

  it('computes the ratios the targets are stated in, and whether each is met', () => {
    const ratios = compare(runs, 1_000_000)
    expect(ratios.map((r) => [r.name, r.value, r.met])).toEqual([
      ['pool / inline throughput', 1.8, true],
      ['pool probe p99, busy / idle', 1.6, true],
      ['inline probe p99, busy / idle', 12, true],
      ['pool busy probe p99 / inline busy probe p99', 0.8 / 6, undefined]
    ])
  })

  it('holds tiny tasks to the lower throughput target', () => {
    const ratios = compare([fakeRun('pool', 900, 0.5, 0.8), fakeRun('inline', 1000, 0.5, 6)], 1000)
    expect(ratios[0]).toMatchObject({ target: '>= 0.8x', met: true })
  })

  it('reports a ratio it cannot compute as n/a, not as a number', () => {
    const ratios = compare([runs[0]!], 1_000_000)
    expect(ratios[0]!.value).toBeNaN()
    expect(ratios[0]!.met).toBeUndefined()
    const summary = markdownSummary(options, { node: 'v20', cores: 2, cpu: 'cpu', loadAverage: { before: [1, 1, 1], after: [1, 1, 1] }, startedAt: 'now' }, [runs[0]!], ratios)
    expect(summary).toContain('| pool / inline throughput | n/a | >= 1.7x |  |')
  })

  it('writes a Markdown summary with the ratios and a column per executor', () => {
    const summary = markdownSummary(options, { node: 'v20', cores: 2, cpu: 'cpu', loadAverage: { before: [1, 1, 1], after: [1, 1, 1] }, startedAt: 'now' }, runs, compare(runs, 1_000_000))
    expect(summary).toContain('| pool / inline throughput | 1.800x | >= 1.7x | met |')
    expect(summary).toContain('|  | pool | inline |')
    expect(summary).toContain('| throughput, 2xx req/s | 3600 | 2000 |')
  })

  it('compares each variant with the first, round by round, by the median ratio', () => {
    const variantRuns = [
      fakeRun('pool', 1000, 0.5, 0.8, 'warn', 1), fakeRun('pool', 900, 0.5, 0.8, 'info', 1),
      fakeRun('pool', 800, 0.5, 0.8, 'info', 2), fakeRun('pool', 1000, 0.5, 0.8, 'warn', 2),
      fakeRun('pool', 1100, 0.5, 0.8, 'warn', 3), fakeRun('pool', 1045, 0.5, 0.8, 'info', 3)
    ]
    const variantOptions = parseLoadTestArgs(['--variant', 'warn=LOG_LEVEL=warn', '--variant', 'info=LOG_LEVEL=info', '--rounds', '3', '--executors', 'pool']) as LoadTestOptions
    const ratios = compareVariants(variantRuns, variantOptions)
    // Per round: 0.9, 0.8, 0.95; the median is 0.9. Without CPU figures every round counts as undisturbed.
    expect(ratios).toEqual([{
      executor: 'pool',
      variant: 'info',
      baseline: 'warn',
      requestsPerSecond: [900, 800, 1045],
      baselineRequestsPerSecond: [1000, 1000, 1100],
      medianRatio: 0.9,
      quietRounds: [1, 2, 3],
      quietMedianRatio: 0.9,
      eventLoopUs: Number.NaN,
      baselineEventLoopUs: Number.NaN
    }])
    const summary = markdownSummary(variantOptions, { node: 'v20', cores: 2, cpu: 'cpu', loadAverage: { before: [1, 1, 1], after: [1, 1, 1] }, startedAt: 'now' }, variantRuns, compare(variantRuns, 1000), ratios)
    expect(summary).toContain('| pool | info / warn | 900, 800, 1045 | 1000, 1000, 1100 | 0.900x | 1, 2, 3 | 0.900x | NaN / NaN |')
    // A round where another process took half a core during one of its runs is left out of the undisturbed median.
    const cpu = (othersMs: number) => ({ serverMainMs: 0, serverOtherMs: 0, samplerMs: 0, clientMs: 0, othersMs, capacityMs: 20_000 })
    const disturbed = variantRuns.map((run) => ({ ...run, cpu: cpu(run.variant === 'info' && run.round === 2 ? 5000 : 100) }))
    // Event-loop CPU per request: 10 s of load at 900-1100 req/s in fakeRun, serverMainMs set per run.
    const withLoop = disturbed.map((run) => ({ ...run, cpu: { ...run.cpu, serverMainMs: run.variant === 'info' ? run.load.ok * 0.25 : run.load.ok * 0.2 } }))
    expect(compareVariants(withLoop, variantOptions)[0]).toMatchObject({ medianRatio: 0.9, quietRounds: [1, 3], quietMedianRatio: 0.9, eventLoopUs: 250, baselineEventLoopUs: 200 })
    expect(summary).toContain('|  | pool warn #1 | pool info #1 |')
  })

  it('warns when other processes took a share of the cores during a load phase', () => {
    const machine = { node: 'v20', cores: 2, cpu: 'cpu', loadAverage: { before: [1, 1, 1], after: [1, 1, 1] }, startedAt: 'now' }
    const cpu = (othersMs: number) => ({ serverMainMs: 0, serverOtherMs: 0, samplerMs: 0, clientMs: 0, othersMs, capacityMs: 20_000 })
    const quiet = runs.map((run) => ({ ...run, cpu: cpu(100) })) // 0.01 cores over the 10 s load
    const busy = runs.map((run) => ({ ...run, cpu: cpu(run.executor === 'inline' ? 5000 : 100) })) // 0.5 cores
    expect(markdownSummary(options, machine, quiet, compare(quiet, 1_000_000))).not.toContain('distorted')
    expect(markdownSummary(options, machine, busy, compare(busy, 1_000_000))).toContain('up to 0.50 of the 2 cores busy')
  })

  it('renders the chart headless to an SVG with every probe and the load window', async () => {
    const svg = await renderSvg(chartSpec(options, runs, compare(runs, 1_000_000)))
    expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/)
    expect(svg).toContain('compute load')
    expect(svg).toContain('throughput, req/s')
    // One point per probe per executor.
    const symbols = /<g class="mark-symbol role-mark concat_0_layer_2_marks"[^>]*>(.*?)<\/g>/.exec(svg)?.[1] ?? ''
    const points = symbols.match(/<path [^>]*\/>/g) ?? []
    expect(points).toHaveLength(200)
    expect(points.filter((point) => point.includes('fill="#c2185b"'))).toHaveLength(100) // inline's color
  })
})
