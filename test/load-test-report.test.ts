import { describe, expect, it } from 'vitest'
import { parseLoadTestArgs, targetsOf, type LoadTestOptions } from '../load-tests/lib/args.js'
import { chartSpec, renderSvg } from '../load-tests/lib/chart.js'
import { parseServerTiming } from '../load-tests/lib/drive-load.js'
import { compare, compareVariants, markdownSummary } from '../load-tests/lib/report.js'
import type { TargetRun } from '../load-tests/lib/run-target.js'
import { percentile, summarize } from '../load-tests/lib/stats.js'

const options = parseLoadTestArgs([]) as LoadTestOptions

/** A run whose probes take `idleMs` before the load starts at t = 10 s and `busyMs` during it. */
function fakeRun (target: string, requestsPerSecond: number, idleMs: number, busyMs: number, terms = 1_000_000, variant?: string, round?: number): TargetRun {
  const peer = !['pool', 'inline', 'in-place'].includes(target)
  const t0 = 1_000_000
  const samples = Array.from({ length: 100 }, (_, i) => {
    const at = t0 + i * 200
    return { at, scheduledAt: at, rttMs: at < t0 + 10_000 ? idleMs : busyMs, status: 200 }
  })
  const probe = (ms: number) => ({ rttMs: summarize([ms]), fromSlotMs: summarize([ms]), failed: 0 })
  const timing = summarize(peer ? [] : [0.3])
  return {
    name: [target, variant, round === undefined ? undefined : `#${round}`].filter(Boolean).join(' '),
    kind: peer ? 'peer' : 'service',
    target,
    ...(variant === undefined ? {} : { variant }),
    ...(round === undefined ? {} : { round }),
    terms,
    env: {},
    ...(peer ? { command: `./${target} {PORT}` } : {}),
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
      wrong: 0,
      latencyMs: timing,
      serverTotalMs: timing,
      kernelMs: timing,
      perSecond: []
    },
    probe: { idle: probe(idleMs), busy: probe(busyMs) },
    server: peer
      ? { loopDelayP99Ms: Number.NaN, loopUtilization: Number.NaN, poolUtilization: Number.NaN }
      : { loopDelayP99Ms: 1, loopUtilization: 0.5, poolUtilization: 0.9 },
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

  it('starts no peer and no in-place run unless asked', () => {
    expect(options).toMatchObject({ peers: [], inPlaceTerms: undefined })
    expect(targetsOf(options).map((target) => target.name)).toEqual(['pool', 'inline'])
  })

  it('takes repeated --peer NAME=COMMAND and runs the peers after the service, with the same terms', () => {
    const parsed = parseLoadTestArgs(['--peer', 'go=/tmp/go-peer {PORT}', '--peer=rust=cargo run -- --port={PORT} --x=1', '--in-place', '1000']) as LoadTestOptions
    expect(parsed.peers).toEqual([{ name: 'go', command: '/tmp/go-peer {PORT}' }, { name: 'rust', command: 'cargo run -- --port={PORT} --x=1' }])
    expect(targetsOf(parsed)).toEqual([
      { name: 'pool', kind: 'service', executor: 'pool', terms: 1_000_000 },
      { name: 'inline', kind: 'service', executor: 'inline', terms: 1_000_000 },
      { name: 'in-place', kind: 'service', executor: 'pool', terms: 1000 },
      { name: 'go', kind: 'peer', command: '/tmp/go-peer {PORT}', terms: 1_000_000 },
      { name: 'rust', kind: 'peer', command: 'cargo run -- --port={PORT} --x=1', terms: 1_000_000 }
    ])
  })

  it.each([
    [['--peer', 'go'], /NAME=COMMAND/],
    [['--peer', 'Go=/tmp/go-peer {PORT}'], /NAME=COMMAND/],
    [['--peer', 'go=/tmp/go-peer 8080'], /must contain \{PORT\}/],
    [['--peer', 'pool=/tmp/go-peer {PORT}'], /taken/],
    [['--peer', 'in-place=/tmp/go-peer {PORT}'], /taken/],
    [['--peer', 'go=/tmp/a {PORT}', '--peer', 'go=/tmp/b {PORT}'], /taken/],
    [['--in-place', '0'], /--in-place/]
  ])('rejects %j with a message that says why', (argv, message) => {
    expect(() => parseLoadTestArgs(argv)).toThrow(message)
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
      fakeRun('pool', 1000, 0.5, 0.8, undefined, 'warn', 1), fakeRun('pool', 900, 0.5, 0.8, undefined, 'info', 1),
      fakeRun('pool', 800, 0.5, 0.8, undefined, 'info', 2), fakeRun('pool', 1000, 0.5, 0.8, undefined, 'warn', 2),
      fakeRun('pool', 1100, 0.5, 0.8, undefined, 'warn', 3), fakeRun('pool', 1045, 0.5, 0.8, undefined, 'info', 3)
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
    const busy = runs.map((run) => ({ ...run, cpu: cpu(run.name === 'inline' ? 5000 : 100) })) // 0.5 cores
    expect(markdownSummary(options, machine, quiet, compare(quiet, 1_000_000))).not.toContain('distorted')
    expect(markdownSummary(options, machine, busy, compare(busy, 1_000_000))).toContain('up to 0.50 of the 2 cores busy')
  })

  describe('with peers and an in-place run', () => {
    const machine = { node: 'v20', cores: 2, cpu: 'cpu', loadAverage: { before: [1, 1, 1], after: [1, 1, 1] }, startedAt: 'now' }
    const cpu = (serverMainMs: number, serverOtherMs: number) => ({ serverMainMs, serverOtherMs, samplerMs: 0, clientMs: 0, othersMs: 0, capacityMs: 20_000 })
    const withCpu = (run: TargetRun, mainMs: number, otherMs: number): TargetRun => ({ ...run, cpu: cpu(mainMs, otherMs) })
    // 36,000 requests each: 3600 ms of event loop is 100 µs a request; in place, 25,000 requests in 1500 ms is 60 µs.
    const all = [
      withCpu(fakeRun('pool', 3600, 0.5, 0.8), 3600, 9000),
      withCpu(fakeRun('inline', 2000, 0.5, 6), 9000, 0),
      withCpu(fakeRun('in-place', 2500, 0.5, 0.6, 1000), 1500, 0),
      withCpu(fakeRun('go', 3000, 0.4, 1.6), Number.NaN, 12_000),
      fakeRun('rust', 4000, 0.4, 0.4)
    ]
    const peerOptions = parseLoadTestArgs(['--peer', 'go=./go {PORT}', '--peer', 'rust=./rust {PORT}', '--in-place', '1000']) as LoadTestOptions

    it('compares the pool with each peer, and its event-loop CPU with the in-place request\'s', () => {
      const ratios = compare(all, 1_000_000)
      expect(ratios.slice(4).map((r) => [r.name, r.value, r.target, r.met])).toEqual([
        ['pool event-loop CPU per request / in-place (1000 terms)', 100 / 60, '<= 1.5x', false],
        ['pool / go throughput', 1.2, '>= 1.0x', true],
        ['pool busy probe p99 / go busy probe p99', 0.5, '<= 1.0x', true],
        ['pool / rust throughput', 0.9, '>= 1.0x', false],
        ['pool busy probe p99 / rust busy probe p99', 2, '<= 1.0x', false]
      ])
    })

    it('over several rounds, takes each ratio within its round, then the median over rounds', () => {
      const round = (n: number, poolRps: number, goRps: number) => [
        fakeRun('pool', poolRps, 0.5, 0.8, 1_000_000, undefined, n),
        fakeRun('go', goRps, 0.4, 1.6, 1_000_000, undefined, n)
      ]
      // Per round 2.0, 0.5 and 1.1, so the median is 1.1; the ratio of the medians would be 1000 / 900.
      const ratios = compare([...round(1, 1000, 500), ...round(2, 450, 900), ...round(3, 1100, 1000)], 1_000_000)
      expect(ratios.find((r) => r.name === 'pool / go throughput')).toMatchObject({ value: 1.1, met: true })
    })

    it('puts each peer in a column of the summary, with n/a for what a peer does not report', () => {
      const summary = markdownSummary(peerOptions, machine, all, compare(all, 1_000_000))
      expect(summary).toContain('# Load test: pool vs inline vs in-place vs go vs rust')
      expect(summary).toContain('|  | pool | inline | in-place | go | rust |')
      expect(summary).toContain('| terms per request | 1,000,000 | 1,000,000 | 1,000 | 1,000,000 | 1,000,000 |')
      expect(summary).toContain('| throughput, 2xx req/s | 3600 | 2000 | 2500 | 3000 | 4000 |')
      expect(summary).toContain('| server CPU per request, µs: event loop / other threads | 100 / 250 | 450 / 0 | 60 / 0 | n/a / 400 | n/a |')
      expect(summary).toContain('| server event-loop / pool utilization | 0.50 / 0.90 | 0.50 / 0.90 | 0.50 / 0.90 | n/a / n/a | n/a / n/a |')
      expect(summary).toContain('| pool / go throughput | 1.200x | >= 1.0x | met |')
      expect(summary).toContain('go (`./go {PORT}`)')
      expect(summary).not.toContain('NaN')
    })

    it('draws each peer in a color of its own and leaves the in-place baseline off the chart', async () => {
      const svg = await renderSvg(chartSpec(peerOptions, all, compare(all, 1_000_000)))
      const symbols = /<g class="mark-symbol role-mark concat_0_layer_2_marks"[^>]*>(.*?)<\/g>/.exec(svg)?.[1] ?? ''
      const points = symbols.match(/<path [^>]*\/>/g) ?? []
      expect(points).toHaveLength(400)
      expect(points.filter((point) => point.includes('fill="#2166ac"'))).toHaveLength(100) // go
      expect(points.filter((point) => point.includes('fill="#e08214"'))).toHaveLength(100) // rust
      const legend = [...svg.matchAll(/role-legend-label[^>]*><text[^>]*>([^<]*)</g)].map((match) => match[1])
      expect(legend).toEqual(['pool', 'inline', 'go', 'rust', 'idle', 'busy'])
    })
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
