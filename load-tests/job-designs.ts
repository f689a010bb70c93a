/**
 * `npm run loadtest:job-designs`: what a job costs Redis in each design of issue 19, item 2. The
 * service's Redis back end (one BullMQ job per chunk, the job's record in a hash kept by Lua) and a
 * BullMQ flow (the job a parent, its chunks children added in windows; lib/flow-jobs.ts), each on a
 * Redis of its own, running the same jobs. Reports Redis commands per chunk (sent by clients, and
 * run inside scripts: BullMQ's and ours) and Redis bytes per active and per finished job. See --help.
 */
import { availableParallelism, cpus, loadavg } from 'node:os'
import { parseArgs } from 'node:util'
import { runningServers } from '../test/support/server-process.js'
import { describeRun, measureJobDesign, redisCostsRow, REDIS_COSTS_HEADER, type JobDesign, type JobDesignRun } from './lib/job-redis-costs.js'
import { median } from './lib/stats.js'

const usage = `Usage: npm run loadtest:job-designs -- [options]

  --jobs N         jobs run at once in each design           (default 4)
  --chunks N       chunks of each job                        (default 512)
  --chunk-terms N  terms of a chunk (JOB_CHUNK_TERMS)        (default 1000000)
  --rounds N       rounds, each design once, alternating     (default 2)
  --threads N      chunks run at once (JOB_THREADS)          (default 2)`

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '4' },
    chunks: { type: 'string', default: '512' },
    'chunk-terms': { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const [jobs, chunks, chunkTerms, rounds, threads] = [values.jobs, values.chunks, values['chunk-terms'], values.rounds, values.threads].map(Number) as [number, number, number, number, number]
const shape = { jobs, chunks, chunkTerms, threads }
process.on('exit', () => { for (const child of runningServers) child.kill('SIGKILL') })

const startedAt = new Date().toISOString()
const loadBefore = loadavg()
const runs: JobDesignRun[] = []
for (let round = 0; round < rounds; round++) {
  // Alternating, so that drift in the machine's speed falls on both designs alike.
  for (const design of (round % 2 === 0 ? ['service', 'flow'] : ['flow', 'service']) as JobDesign[]) {
    runs.push(await measureJobDesign(design, shape))
    console.log(`round ${round + 1}, ${design}: ${describeRun(runs.at(-1)!)}`)
  }
}

const of = (design: JobDesign) => runs.filter((run) => run.design === design)
console.log([
  '',
  `# Job designs, ${startedAt}`,
  '',
  `Node ${process.version}, ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? 'unknown CPU'}), load average before ${loadBefore.map((v) => v.toFixed(2)).join(' ')}, after ${loadavg().map((v) => v.toFixed(2)).join(' ')}.`,
  `${jobs} jobs at once of ${chunks} chunks of ${chunkTerms} terms, ${threads} chunks running at once, ${rounds} rounds (medians).`,
  '',
  ...REDIS_COSTS_HEADER,
  redisCostsRow('service: a BullMQ job per chunk, the job a hash', of('service')),
  redisCostsRow('BullMQ flow: a parent, chunks its children', of('flow')),
  '',
  'Chunks per second are not compared: the flow computes each chunk in its own process by the closed form, the service on its pool.',
  `service: ${median(of('service').map((run) => run.chunksPerSecond)).toFixed(0)} chunks/s; flow: ${median(of('flow').map((run) => run.chunksPerSecond)).toFixed(0)}.`
].join('\n'))
