import { parse, View } from 'vega'
import { compile, type TopLevelSpec } from 'vega-lite'
import type { LoadTestOptions } from './args.js'
import type { MachineInfo, Ratio } from './report.js'
import type { ExecutorRun } from './run-executor.js'

const executorColors = { domain: ['pool', 'inline'], range: ['#1b7837', '#c2185b'] }

/**
 * The chart as a vega-lite spec: probe round trips over time for each executor, aligned on the
 * start of the load (the shaded window), then throughput and probe p99 idle vs busy side by side.
 */
export function chartSpec (options: LoadTestOptions, runs: ExecutorRun[], ratios: Ratio[], machine?: MachineInfo): TopLevelSpec {
  // Runs are told apart by name: the executor alone in a plain run, with its variant and round otherwise.
  const names = runs.map((run) => run.name)
  const colors = names.every((name) => executorColors.domain.includes(name)) ? executorColors : { domain: names, scheme: 'tableau10' }
  const probes = runs.flatMap((run) => run.samples
    .filter((sample) => sample.status === 200 && sample.at >= run.phases.idleStart)
    .map((sample) => ({
      executor: run.name,
      seconds: Math.round((sample.at - run.phases.loadStart)) / 1000,
      rttMs: Math.max(0.01, Math.round(sample.rttMs * 1000) / 1000)
    })))
  const loadSeconds = Math.max(...runs.map((run) => (run.phases.loadEnd - run.phases.loadStart) / 1000))
  const throughput = runs.map((run) => ({ executor: run.name, rps: Math.round(run.load.requestsPerSecond) }))
  const p99 = runs.flatMap((run) => (['idle', 'busy'] as const).map((phase) => ({
    executor: run.name,
    phase,
    p99: Math.round(run.probe[phase].rttMs.p99 * 100) / 100
  })))
  const headline = ratios.filter((r) => !Number.isNaN(r.value)).map((r) => `${r.name}: ${r.value.toFixed(3)}x${r.target === undefined ? '' : ` (target ${r.target})`}`)
  // One color scale and legend for all three panels.
  const color = { field: 'executor', type: 'nominal', scale: colors, legend: { title: 'run', orient: 'top-left' } } as const
  const executorAxis = { field: 'executor', type: 'nominal', sort: colors.domain, title: null, axis: { labelAngle: 0 } } as const

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
        width: 300,
        height: 200,
        title: 'throughput, req/s',
        data: { values: throughput },
        layer: [
          { mark: 'bar', encoding: { x: executorAxis, y: { field: 'rps', type: 'quantitative', title: 'req/s' }, color } },
          { mark: { type: 'text', dy: -8 }, encoding: { x: executorAxis, y: { field: 'rps', type: 'quantitative' }, text: { field: 'rps' } } }
        ]
      }, {
        width: 360,
        height: 200,
        title: 'probe round trip p99, ms: idle vs under load',
        data: { values: p99 },
        encoding: {
          x: executorAxis,
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
