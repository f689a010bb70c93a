/**
 * Runs each hostile-client attack (load-tests/lib/hostile-attacks.ts) against a fresh server on
 * loopback and prints one table row per attack: the answer, its size, the time, the server's RSS
 * before and at its peak, and the longest GET /probe round trip meanwhile.
 *
 *   npm run hostile [-- --only name,name] [--out file.json] [--entry ../before/dist/src/server.js]
 *   (--entry runs another build's server against the same attacks: the "before" column)
 *   node dist/load-tests/hostile.js --compare before.json,after.json   (prints one table of both runs)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { startServer, type ServerProcess } from '../test/support/server-process.js'
import { startRedis, type RedisServer } from '../test/support/redis-server.js'
import { requestAttacks, type Attack, type AttackOutcome } from './lib/hostile-attacks.js'
import { attacks as connectionAttacks } from './lib/hostile/connections.js'
import { attacks as jobAttacks } from './lib/hostile/jobs.js'
import { attacks as proxyAndDeadlineAttacks } from './lib/hostile/proxy-and-deadlines.js'
import { attacks as redisAttacks } from './lib/hostile/redis.js'
import { attacks as streamAttacks } from './lib/hostile/streams.js'
import { attacks as uploadAttacks } from './lib/hostile/uploads.js'
import { startSampler } from './lib/probe-sampler-client.js'

interface Row extends AttackOutcome {
  name: string
  description: string
  rssBeforeMiB: number
  rssPeakMiB: number
  rssAfterMiB: number
  probeMaxMs: number
}

const MiB = 1024 * 1024

function rssMiB (pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024
  } catch {
    return Number.NaN
  }
}

async function runAttack (attack: Attack, entry: string | undefined): Promise<Row> {
  const redis: RedisServer | undefined = attack.redis === true ? await startRedis(undefined, attack.redisArgs) : undefined
  const server: ServerProcess = await startServer(
    { LOG_LEVEL: 'warn', POOL_THREADS: '2', ...(redis === undefined ? {} : { REDIS_URL: redis.url }), ...attack.env },
    { ...(entry === undefined ? {} : { entry }), ...(attack.startTimeoutMs === undefined ? {} : { timeoutMs: attack.startTimeoutMs }) }
  )
  try {
    await sleep(1000)
    const pid = server.child.pid!
    const rssBeforeMiB = rssMiB(pid)
    let rssPeakMiB = rssBeforeMiB
    const rssTimer = setInterval(() => {
      const rss = rssMiB(pid)
      if (rss > rssPeakMiB) rssPeakMiB = rss
    }, 50)
    const sampler = startSampler(server.url, 100, 180_000)
    await sampler.ready
    let outcome: AttackOutcome
    try {
      outcome = await attack.run(server, redis)
    } catch (error) {
      outcome = { answer: `tool error: ${String(error)}`, ms: Number.NaN }
    }
    const samples = await sampler.stop()
    clearInterval(rssTimer)
    await sleep(1000)
    const rssAfterMiB = rssMiB(pid)
    const probeMaxMs = Math.max(0, ...samples.map((sample) => sample.status === 0 ? 10_000 : sample.rttMs))
    return { name: attack.name, description: attack.description, ...outcome, rssBeforeMiB, rssPeakMiB, rssAfterMiB, probeMaxMs }
  } finally {
    const stopped = server.stop()
    const killer = setTimeout(() => server.child.kill('SIGKILL'), 15_000)
    await stopped
    clearTimeout(killer)
    await redis?.stop()
  }
}

const size = (bytes: number | undefined) => bytes === undefined ? '' : bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} B`
const ms = (value: number) => Number.isNaN(value) ? '-' : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`
const mib = (value: number) => Number.isNaN(value) ? '-' : `${Math.round(value)}`

export function table (rows: Row[]): string {
  const lines = [
    '| attack | answer | answer size | time | RSS MiB before / peak / after | longest probe | notes |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.name} | ${row.answer} | ${size(row.bytes)} | ${ms(row.ms)} | ${mib(row.rssBeforeMiB)} / ${mib(row.rssPeakMiB)} / ${mib(row.rssAfterMiB)} | ${ms(row.probeMaxMs)} | ${(row.note ?? '').replaceAll('|', '/')} |`)
  ]
  return lines.join('\n')
}

/** One row per attack of the `after` run, with the `before` run's figures beside it. */
export function comparison (before: Row[], after: Row[]): string {
  const cell = (row: Row | undefined) => row === undefined
    ? '(not run) | | | |'
    : `${row.answer} | ${size(row.bytes)} | ${ms(row.ms)} | ${mib(row.rssBeforeMiB)} → ${mib(row.rssPeakMiB)} | ${ms(row.probeMaxMs)}`
  const lines = [
    '| attack | before: answer | size | time | RSS MiB idle → peak | longest probe | after: answer | size | time | RSS MiB idle → peak | longest probe | after: notes |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...after.map((row) => `| ${row.name} | ${cell(before.find((old) => old.name === row.name))} | ${cell(row)} | ${(row.note ?? '').replaceAll('|', '/')} |`)
  ]
  return lines.join('\n')
}

const { values: args } = parseArgs({ options: { only: { type: 'string' }, out: { type: 'string' }, compare: { type: 'string' }, entry: { type: 'string' } } })
if (args.compare !== undefined) {
  const [before, after] = args.compare.split(',').map((file) => JSON.parse(readFileSync(file, 'utf8')) as Row[])
  console.log(comparison(before!, after!))
  process.exit(0)
}
const attacks: Attack[] = [...requestAttacks, ...connectionAttacks, ...uploadAttacks, ...jobAttacks, ...redisAttacks, ...streamAttacks, ...proxyAndDeadlineAttacks]
const chosen = args.only === undefined ? attacks : attacks.filter((attack) => args.only!.split(',').includes(attack.name))
const rows: Row[] = []
const started = performance.now()
for (const attack of chosen) {
  process.stderr.write(`${attack.name}: ${attack.description}\n`)
  const row = await runAttack(attack, args.entry)
  process.stderr.write(`  ${row.answer} (${size(row.bytes)}, ${ms(row.ms)}), RSS ${mib(row.rssBeforeMiB)} -> ${mib(row.rssPeakMiB)} MiB, probe max ${ms(row.probeMaxMs)}\n`)
  rows.push(row)
}
console.log(table(rows))
console.log(`\n${new Date().toISOString()}, node ${process.version}, ${Math.round((performance.now() - started) / 1000)} s`)
const out = args.out ?? `load-tests/results/hostile-${new Date().toISOString().replaceAll(':', '-')}.json`
mkdirSync('load-tests/results', { recursive: true })
writeFileSync(out, JSON.stringify(rows, null, 2))
