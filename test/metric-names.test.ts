import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { processMetrics } from '../src/metrics/process-metrics.js'
import { projectPath } from '../src/platform/paths.js'
import { buildTestApp, json } from './helper.js'
import { promtool, runPromtool } from './support/promtool.js'

const PREFIX = 'compute_'

interface Relabel { source_labels: string[], regex: string, target_label: string, replacement: string }

/** The renaming section of docs/observability.md: its old -> new table and its metric_relabel_configs. */
async function renaming () {
  const doc = await readFile(projectPath('docs/observability.md'), 'utf8')
  const start = doc.indexOf('### Metric names')
  const section = doc.slice(start, doc.indexOf('\n## ', start))
  const table = [...section.matchAll(/^\| `(\w+)` \| `(\w+)` \|$/gm)].map(([, old, renamed]) => ({ old: old!, renamed: renamed! }))
  const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
  const { metric_relabel_configs: rules } = parse(snippet ?? '') as { metric_relabel_configs: Relabel[] }
  return { table, snippet, rules }
}

/** What Prometheus makes of a metric name under these rules: a fully anchored regex, `$1` replacements. */
function relabel (rules: Relabel[], name: string): string {
  return rules.reduce((current, rule) => {
    expect([rule.source_labels, rule.target_label]).toEqual([['__name__'], '__name__'])
    const regex = new RegExp(`^(?:${rule.regex})$`)
    return regex.test(current) ? current.replace(regex, rule.replacement) : current
  }, name)
}

describe('metric names', () => {
  let app: FastifyInstance
  let exposition: string
  let types: Map<string, string>
  const defaults = new Set(processMetrics().getMetricsAsArray().map((metric) => metric.name))

  beforeAll(async () => {
    app = await buildTestApp()
    // One request, so the labelled histograms and counters have series for promtool to read.
    expect((await app.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 1000 } })).statusCode).toBe(200)
    exposition = (await app.inject({ method: 'GET', url: '/metrics' })).body
    types = new Map([...exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)].map(([, name, type]) => [name!, type!]))
  })
  afterAll(async () => { await app?.close() })

  const own = () => [...types.keys()].filter((name) => !defaults.has(name))

  it('start with compute_ for every metric the service defines, while prom-client\'s defaults keep their standard names', () => {
    expect(own().length).toBeGreaterThan(0)
    for (const name of own()) expect(name.startsWith(PREFIX), name).toBe(true)
    for (const name of ['process_cpu_seconds_total', 'nodejs_heap_size_used_bytes']) expect(types.has(name), name).toBe(true)
    for (const name of defaults) expect(name.startsWith(PREFIX), name).toBe(false)
  })

  it('are each in the docs\' old -> new table, and the relabelling rule there gives back each old name', async () => {
    const { table, rules } = await renaming()
    expect(table.map((row) => row.renamed).sort()).toEqual(own().sort())
    for (const { old, renamed } of table) {
      expect(relabel(rules, renamed), renamed).toBe(old)
      if (types.get(renamed) === 'histogram') expect(relabel(rules, `${renamed}_bucket`)).toBe(`${old}_bucket`)
    }
    for (const name of defaults) expect(relabel(rules, name), name).toBe(name)
  })

  it('have a relabelling rule that promtool accepts in a scrape job', async () => {
    const { snippet } = await renaming()
    const dir = await mkdtemp(join(tmpdir(), 'metric-names-'))
    try {
      const config = join(dir, 'prometheus.yml')
      const job = { job_name: 'compute-service', static_configs: [{ targets: ['127.0.0.1:9100'] }], ...parse(snippet!) as object }
      await writeFile(config, stringify({ scrape_configs: [job] }))
      expect((await promtool('check', 'config', config)).stdout).toMatch(/SUCCESS/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('pass promtool check metrics, but for prom-client\'s defaults, whose names are left as they are', async () => {
    const { stdout, stderr } = await runPromtool(['check', 'metrics'], exposition)
    const findings = `${stdout}${stderr}`.split('\n').filter((line) => line.trim() !== '')
    // Today: nodejs_active_handles_total and its kind, gauges that end in _total.
    for (const line of findings) expect(defaults.has(line.split(' ')[0]!), line).toBe(true)
  })
})
