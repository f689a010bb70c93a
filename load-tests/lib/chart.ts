import { parse, View } from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import type { LoadTestOptions } from './args.js'
import type { MachineInfo, Ratio } from './report.js'
import type { TargetRun } from './run-target.js'

/** pool and inline keep their colors from chart to chart; peers take the next ones in order. */
const SERVICE_COLORS: Record<string, string> = { pool: '#1b7837', inline: '#c2185b' }
const PEER_COLORS = ['#2166ac', '#e08214', '#542788', '#8c510a', '#35978f']

/** Runs are told apart by name: the target alone in a plain run, with its variant and round otherwise. */
export function colorsOf (runs: TargetRun[]): { domain: string[], range: string[] } | { domain: string[], scheme: string } {
  const domain = runs.map((run) => run.name)
  if (runs.some((run) => run.name !== run.target)) return { domain, scheme: 'tableau10' }
  let peer = 0
  return { domain, range: runs.map((run) => SERVICE_COLORS[run.name] ?? PEER_COLORS[peer++ % PEER_COLORS.length]!) }
}

/**
 * The chart as a vega-lite spec: probe round trips over time for each server, aligned on the
 * start of the load (the shaded window), then throughput and probe p99 idle vs busy side by side.
 */
export function chartSpec (options: LoadTestOptions, allRuns: TargetRun[], ratios: Ratio[], machine?: MachineInfo): TopLevelSpec {
  // The in-place baseline serves other requests; its figures are in the summary, not beside these.
  const runs = allRuns.filter((run) => run.terms === options.terms)
  const colors = colorsOf(runs)
  const probes = runs.flatMap((run) => run.samples
    .filter((sample) => sample.status === 200 && sample.at >= run.phases.idleStart)
    .map((sample) => ({
      server: run.name,
      seconds: Math.round((sample.at - run.phases.loadStart)) / 1000,
      rttMs: Math.max(0.01, Math.round(sample.rttMs * 1000) / 1000)
    })))
  const loadSeconds = Math.max(...runs.map((run) => (run.phases.loadEnd - run.phases.loadStart) / 1000))
  const throughput = runs.map((run) => ({ server: run.name, rps: Math.round(run.load.requestsPerSecond) }))
  const p99 = runs.flatMap((run) => (['idle', 'busy'] as const).map((phase) => ({
    server: run.name,
    phase,
    p99: Math.round(run.probe[phase].rttMs.p99 * 100) / 100
  })))
  const headline = ratios.filter((r) => !Number.isNaN(r.value)).map((r) => `${r.name}: ${r.value.toFixed(3)}x${r.target === undefined ? '' : ` (target ${r.target})`}`)
  // One color scale and legend for all three panels.
  const color = { field: 'server', type: 'nominal', scale: colors, legend: { title: 'server', orient: 'top-left' } } as const
  const serverAxis = { field: 'server', type: 'nominal', sort: colors.domain, title: null, axis: { labelAngle: 0 } } as const

  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: `GET /probe while POST /v1/sum-of-squares (${options.terms.toLocaleString('en-US')} terms, ${options.connections} connections) runs`,
      subtitle: machine === undefined
        ? headline
        : [...headline, `${machine.startedAt.slice(0, 16).replace('T', ' ')} UTC, ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverage.before[0]!.toFixed(2)} at the start`],
      anchor: 'start'
    },
    // No ARIA labels on every point: they would triple the size of the SVG.
    config: { font: 'sans-serif', view: { stroke: '#ddd' }, aria: false },
    vconcat: [{
      width: 760,
      height: 300,
      layer: [
        {
          data: { values: [{ from: 0, to: loadSeconds, label: 'compute load' }] },
          mark: { type: 'rect', color: '#f2e8c9' },
          encoding: { x: { field: 'from', type: 'quantitative' }, x2: { field: 'to' } }
        },
        {
          data: { values: [{ at: loadSeconds / 2, label: 'compute load' }] },
          mark: { type: 'text', dy: -140, color: '#8a6d1f', fontSize: 12 },
          encoding: { x: { field: 'at', type: 'quantitative' }, text: { field: 'label' } }
        },
        {
          data: { values: probes },
          mark: { type: 'point', filled: true, size: 14, opacity: 0.7 },
          encoding: {
            x: { field: 'seconds', type: 'quantitative', title: 'seconds since the load started (idle before 0)' },
            y: { field: 'rttMs', type: 'quantitative', scale: { type: 'log' }, title: 'probe round trip, ms (log scale)' },
            color
          }
        }
      ]
    }, {
      hconcat: [{
        width: Math.max(300, 75 * runs.length),
        height: 200,
        title: 'throughput, req/s',
        data: { values: throughput },
        layer: [
          { mark: 'bar', encoding: { x: serverAxis, y: { field: 'rps', type: 'quantitative', title: 'req/s' }, color } },
          { mark: { type: 'text', dy: -8 }, encoding: { x: serverAxis, y: { field: 'rps', type: 'quantitative' }, text: { field: 'rps' } } }
        ]
      }, {
        width: Math.max(360, 90 * runs.length),
        height: 200,
        title: 'probe round trip p99, ms: idle vs under load',
        data: { values: p99 },
        encoding: {
          x: serverAxis,
          xOffset: { field: 'phase', type: 'nominal', sort: ['idle', 'busy'] },
          y: { field: 'p99', type: 'quantitative', title: 'ms' }
        },
        layer: [
          {
            mark: 'bar',
            encoding: {
              color,
              opacity: { field: 'phase', type: 'nominal', sort: ['idle', 'busy'], scale: { range: [0.4, 1] }, legend: { title: 'phase (light: idle, dark: under load)', titleLimit: 400, orient: 'bottom' } }
            }
          },
          { mark: { type: 'text', dy: -8 }, encoding: { text: { field: 'p99' } } }
        ]
      }]
    }]
  }
}

/** Renders the spec headless (no browser, no canvas) to an SVG document. */
export async function renderSvg (spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' })
  try {
    // Geometry cut to two decimals (a hundredth of a pixel): the same picture at half the size. Text is left alone.
    return (await view.toSVG()).replace(/ (transform|d|x|y|x1|y1|x2|y2)="([^"]*)"/g,
      (_attribute, name: string, value: string) => ` ${name}="${value.replace(/(\.\d\d)\d+/g, '$1')}"`)
  } finally {
    view.finalize()
  }
}
