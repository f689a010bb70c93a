/**
 * npm run test:stress [-- N] [--replicas] [--only FILTER]: runs the whole suite (or the test files
 * matching FILTER) N times (default 5) while a CPU hog
 * holds one of the machine's cores at normal priority, and reports every failure by test name. With
 * --replicas it runs `test:replicas` instead. Exits 1 if any run failed. The hog is this script's own
 * child, ended by its pid whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

interface VitestReport {
  numTotalTests: number
  numFailedTests: number
  testResults: Array<{ name: string, assertionResults: Array<{ fullName: string, status: string, failureMessages: string[] }> }>
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { replicas: { type: 'boolean', default: false }, only: { type: 'string' } } })
const runs = Number(positionals[0] ?? 5)
if (!Number.isInteger(runs) || runs < 1) throw new Error(`test:stress: the number of runs must be a whole number, not ${positionals[0]}`)
const config = [...(values.replicas ? ['--config', 'vitest.replicas.config.ts'] : []), ...(values.only === undefined ? [] : [values.only])]

const hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' })
const stopHog = () => { if (hog.exitCode === null) hog.kill('SIGKILL') }
process.on('exit', stopHog)
let current: ChildProcess | undefined
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => { current?.kill(signal); stopHog(); process.exit(130) })

const dir = mkdtempSync(join(tmpdir(), 'test-stress-'))
const failures = new Map<string, number>()
const lines: string[] = []
try {
  for (let run = 1; run <= runs; run++) {
    const out = join(dir, `run-${run}.json`)
    const started = Date.now()
    // Spawned, not spawnSync: the event loop stays free to run the signal handlers between runs.
    const child = current = spawn('npx', ['vitest', 'run', ...config, '--reporter=dot', '--reporter=json', `--outputFile.json=${out}`], { stdio: ['ignore', 'inherit', 'inherit'] })
    const [code] = await once(child, 'exit') as [number | null]
    const vitest = { status: code }
    const seconds = Math.round((Date.now() - started) / 1000)
    let report: VitestReport | undefined
    try { report = JSON.parse(readFileSync(out, 'utf8')) as VitestReport } catch { /* vitest died before writing it */ }
    const failed = report?.testResults.flatMap((file) => file.assertionResults
      // 'pending': collected but never run, as when its file's worker died.
      .filter((test) => test.status === 'failed' || test.status === 'pending')
      .map((test) => `${file.name.replace(`${process.cwd()}/`, '')} > ${test.fullName}${test.status === 'pending' ? ' (did not run)' : ''}`)) ?? [`(no report: vitest exited ${vitest.status})`]
    for (const name of failed) failures.set(name, (failures.get(name) ?? 0) + 1)
    lines.push(`run ${run}/${runs}: ${report?.numTotalTests ?? '?'} tests, ${failed.length} failed, exit ${vitest.status}, ${seconds} s`)
    console.log(`\n::: ${lines.at(-1)}`)
  }
} finally {
  stopHog()
  rmSync(dir, { recursive: true, force: true })
}

console.log(`\ntest:stress${values.replicas ? ' --replicas' : ''}: ${runs} runs under a one-core CPU hog, node ${process.version}`)
for (const line of lines) console.log(`  ${line}`)
if (failures.size === 0) console.log('no failures')
for (const [name, count] of failures) console.log(`  FAILED ${count}/${runs}: ${name}`)
process.exit(failures.size === 0 ? 0 : 1)
