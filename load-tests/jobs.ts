/**
 * `npm run loadtest:jobs`: what jobs cost and give. Chunk throughput (terms/s) with one replica and
 * with three sharing Redis; CPU per term through Redis against embedded mode, at the same chunk size;
 * synchronous-request and probe latency with and without a job running; Redis commands per chunk and
 * bytes per job. See `--help` and docs/jobs.md.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { measureLatency, runJob, startDeployment, type JobRun, type JobsMode, type JobsScenarioOptions, type LatencyRun } from './lib/jobs-scenario.js'
import { runningServers } from '../test/support/server-process.js'
import { describeRun, measureJobDesign, redisCostsRow, REDIS_COSTS_HEADER, type JobDesignRun, type JobsShape } from './lib/job-redis-costs.js'
import { median } from './lib/stats.js'

const usage = `Usage: npm run loadtest:jobs -- [options]

  --terms N          terms of each measured job                      (default 20000000000)
  --chunk-terms N    JOB_CHUNK_TERMS of the servers                  (default: the service's)
  --rounds N         measured jobs per deployment, alternating modes  (default 2)
  --first MODE       embedded or redis: the mode each round starts with (default embedded)
  --sync-terms N     terms per synchronous request                    (default 10000000)
  --sync-seconds S   seconds of synchronous requests per phase        (default 8)
  --server-env K=V   extra environment for every server (repeatable)
  --out DIR          output directory                                 (default load-tests/results)
  --quick            a few seconds per phase: proves the tool works, numbers mean little`

const { values } = parseArgs({
  options: {
    terms: { type: 'string' },
    'chunk-terms': { type: 'string' },
    rounds: { type: 'string' },
    first: { type: 'string', default: 'embedded' },
    'sync-terms': { type: 'string' },
    'sync-seconds': { type: 'string' },
    'server-env': { type: 'string', multiple: true },
    out: { type: 'string', default: 'load-tests/results' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const number = (value: string | undefined, fallback: number) => {
  const parsed = value === undefined ? fallback : Number(value)
  if (!Number.isSafeInteger(parsed) || parsed <= 0) { console.error(`not a positive whole number: ${value}\n\n${usage}`); process.exit(2) }
  return parsed
}
const quick = values.quick
const options: JobsScenarioOptions = {
  terms: number(values.terms, quick ? 2_000_000_000 : 20_000_000_000),
  chunkTerms: values['chunk-terms'] === undefined ? (quick ? 200_000_000 : undefined) : number(values['chunk-terms'], 1),
  syncTerms: number(values['sync-terms'], 10_000_000),
  syncSeconds: number(values['sync-seconds'], quick ? 1 : 8),
  serverEnv: Object.fromEntries((values['server-env'] ?? []).map((pair) => pair.split(/=(.*)/s, 2) as [string, string]))
}
const rounds = number(values.rounds, quick ? 1 : 2)
if (values.first !== 'embedded' && values.first !== 'redis') { console.error(`--first takes embedded or redis\n\n${usage}`); process.exit(2) }
// Alternating, so that drift in the machine's speed falls on both modes alike.
const modes: JobsMode[] = values.first === 'redis' ? ['redis', 'embedded'] : ['embedded', 'redis']

process.on('exit', () => { for (const child of runningServers) child.kill('SIGKILL') })
process.on('SIGINT', () => process.exit(130))
const log = (line: string) => console.log(`${(performance.now() / 1000).toFixed(1).padStart(6)} s  ${line}`)
const fmt = (x: number, digits = 1) => Number.isFinite(x) ? x.toFixed(digits) : 'n/a'

const startedAt = new Date().toISOString()
const loadBefore = loadavg()
const jobs: JobRun[] = []
const latency: LatencyRun[] = []

for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    const deployment = await startDeployment(mode, 1, options)
    try {
      if (round === 0) {
        for (const withJob of [false, true]) {
          latency.push(await measureLatency(mode, deployment.replicas[0]!, options, withJob))
          log(`${mode}: sync latency ${withJob ? 'with a job' : 'idle'}: p50 ${fmt(latency.at(-1)!.sync.p50)} ms, p99 ${fmt(latency.at(-1)!.sync.p99)} ms`)
        }
      }
      jobs.push(await runJob(mode, deployment, options.terms))
      log(`${mode}, 1 replica: ${fmt(jobs.at(-1)!.termsPerSecond / 1e9, 3)} Gterms/s, CPU ${jobs.at(-1)!.cpuMs} ms`)
    } finally {
      await deployment.stop()
    }
  }
}
const cluster = await startDeployment('redis', 3, options)
try {
  for (let round = 0; round < rounds; round++) {
    jobs.push(await runJob('redis', cluster, options.terms))
    log(`redis, 3 replicas: ${fmt(jobs.at(-1)!.termsPerSecond / 1e9, 3)} Gterms/s`)
  }
} finally {
  await cluster.stop()
}

// What the design kept costs Redis: many short chunks, so that each chunk's commands and bytes show.
const costShape: JobsShape = { jobs: 4, chunks: quick ? 128 : 512, chunkTerms: 1_000_000, threads: 2 }
const redisCosts: JobDesignRun[] = []
for (let round = 0; round < rounds; round++) {
  redisCosts.push(await measureJobDesign('service', costShape))
  log(`Redis costs: ${describeRun(redisCosts.at(-1)!)}`)
}

const runsOf = (mode: JobsMode, replicas: number) => jobs.filter((run) => run.mode === mode && run.replicas === replicas)
const throughput = (mode: JobsMode, replicas: number) => median(runsOf(mode, replicas).map((run) => run.termsPerSecond))
const cpuPerGterm = (mode: JobsMode) => median(runsOf(mode, 1).map((run) => run.cpuMs / (run.terms / 1e9)))
const coordinationPerChunk = (mode: JobsMode) => median(runsOf(mode, 1).map((run) => run.coordinationMs / run.chunks))
const poolPerChunk = (mode: JobsMode) => median(runsOf(mode, 1).map((run) => run.poolMs / run.chunks))
const cpuRatio = cpuPerGterm('redis') / cpuPerGterm('embedded')
// The kernel's CPU is the same in both modes; what Redis adds is coordination, measured apart from it.
const coordinationShare = (coordinationPerChunk('redis') - coordinationPerChunk('embedded')) / (cpuPerGterm('embedded') * (median(runsOf('embedded', 1).map((run) => run.terms / run.chunks)) / 1e9))

const lines = [
  `# Jobs load test, ${startedAt}`,
  '',
  `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), load average before ${loadBefore.map((v) => v.toFixed(2)).join(' ')}, after ${loadavg().map((v) => v.toFixed(2)).join(' ')}.`,
  `Jobs of ${options.terms} terms, chunks of ${options.chunkTerms ?? 'the default'} terms, ${rounds} per deployment (medians); sync requests of ${options.syncTerms} terms.`,
  '',
  '| deployment | terms/s | CPU ms per 10^9 terms (replicas + redis) | of it per chunk: pool threads (kernel), ms | the rest (event loops, V8/libuv helpers, redis-server), ms |',
  '| --- | ---: | ---: | ---: | ---: |',
  `| embedded, 1 replica | ${fmt(throughput('embedded', 1) / 1e9, 3)} G | ${fmt(cpuPerGterm('embedded'), 0)} | ${fmt(poolPerChunk('embedded'), 0)} | ${fmt(coordinationPerChunk('embedded'), 1)} |`,
  `| Redis, 1 replica | ${fmt(throughput('redis', 1) / 1e9, 3)} G | ${fmt(cpuPerGterm('redis'), 0)} | ${fmt(poolPerChunk('redis'), 0)} | ${fmt(coordinationPerChunk('redis'), 1)} |`,
  `| Redis, 3 replicas | ${fmt(throughput('redis', 3) / 1e9, 3)} G | | | |`,
  '',
  `CPU through Redis against embedded: ${fmt((cpuRatio - 1) * 100, 1)}% in all (target: at most +5%); the coordination Redis adds`,
  `(everything but the pool threads, per chunk, against embedded) is ${fmt(coordinationShare * 100, 2)}% of a chunk's CPU.`,
  '',
  '| mode | job running | sync p50 ms | sync p99 ms | probe p50 ms | probe p99 ms | samples |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ...latency.map((run) => `| ${run.mode} | ${run.withJob ? 'yes' : 'no'} | ${fmt(run.sync.p50)} | ${fmt(run.sync.p99)} | ${fmt(run.probe.p50, 2)} | ${fmt(run.probe.p99, 2)} | ${run.sync.count} |`),
  '',
  `What a job costs Redis (docs/jobs.md): ${costShape.jobs} jobs at once of ${costShape.chunks} chunks of ${costShape.chunkTerms} terms, one replica running ${costShape.threads} chunks at once, ${rounds} rounds (medians).`,
  '',
  ...REDIS_COSTS_HEADER,
  redisCostsRow('Redis back end', redisCosts)
]
const summary = lines.join('\n') + '\n'
await mkdir(values.out!, { recursive: true })
const stamp = startedAt.replace(/[:.]/g, '-')
await writeFile(join(values.out!, `jobs-${stamp}.json`), JSON.stringify({ options, rounds, startedAt, jobs, latency, redisCosts }, null, 2))
await writeFile(join(values.out!, `jobs-${stamp}.md`), summary)
console.log(`\n${summary}`)
