import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { projectPath } from '../src/platform/paths.js'
import { buildTestApp, sample } from './helper.js'
import { promtool } from './support/promtool.js'

const rules = projectPath('deploy/prometheus/alerts.yaml')
const unitTests = projectPath('deploy/prometheus/alerts.test.yaml')

/** The metric names an expression reads: identifiers that are not functions, keywords, label names or durations. */
function metricNames (expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\[[^\]]*\]/g, '') // range durations
    .replace(/"[^"]*"/g, '')
  return [...bare.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((match) => match[1]!)
    .filter((name) => !['and', 'or', 'unless', 'bool', 'offset'].includes(name))
}

describe('the Prometheus alert rules (deploy/prometheus/alerts.yaml)', () => {
  it('pass promtool check rules', async () => {
    const { stdout } = await promtool('check', 'rules', rules)
    expect(stdout).toMatch(/SUCCESS: 5 rules found/)
  })

  it('fire and stay quiet as alerts.test.yaml expects (promtool test rules)', async () => {
    const { stdout } = await promtool('test', 'rules', unitTests)
    expect(stdout).toMatch(/SUCCESS/)
  })

  it('cover queue-full, thread replacement, p99 latency, event-loop delay and no ready replicas, each with a unit test', async () => {
    const alerts = (parse(await readFile(rules, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string }> }> }).groups.flatMap((group) => group.rules)
    const tested = new Set((parse(await readFile(unitTests, 'utf8')) as { tests: Array<{ alert_rule_test: Array<{ alertname: string }> }> })
      .tests.flatMap((test) => test.alert_rule_test.map((item) => item.alertname)))
    expect(alerts.map((rule) => rule.alert)).toEqual([
      'ComputeServiceQueueFull', 'ComputeServiceThreadsReplaced', 'ComputeServiceSlowRequests', 'ComputeServiceEventLoopDelayed', 'ComputeServiceNoReadyReplicas'
    ])
    for (const rule of alerts) expect(tested.has(rule.alert), rule.alert).toBe(true)
  })

  it('read only metrics the service exports, so a renamed metric breaks this test rather than the alert', async () => {
    const alerts = (parse(await readFile(rules, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string, expr: string }> }> }).groups.flatMap((group) => group.rules)
    const app = await buildTestApp()
    const exposition = (await app.inject({ method: 'GET', url: '/metrics' })).body
    await app.close()
    const exported = new Set([...exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name!]))
    const used = alerts.flatMap((rule) => metricNames(rule.expr))
    expect(used).toEqual(expect.arrayContaining(['compute_pool_tasks_rejected_total', 'compute_http_request_duration_seconds_bucket', 'compute_health_ready']))
    for (const name of used) expect(exported.has(name), `${name} is not in GET /metrics`).toBe(true)
    expect(sample(exposition, 'compute_health_ready')).toBe(1)
  })
})
