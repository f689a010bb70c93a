/**
 * node dist/scripts/thread-start-race.js [--direct] [--runs 5] [--pools 150]: closes Piscina pools
 * at random points of their threads' start-up, in child processes, and counts the children that
 * Node aborted. With --direct, Piscina loads workers/pool-worker.js itself (require() first); without
 * it, through workers/thread-entry.cts as the service does. Why: docs/how-it-works.md. Run it after
 * a Node or Piscina upgrade to see whether the thread entry is still needed.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Piscina } from 'piscina'
import { threadOptions, workerEntry } from '../src/executor/pool-executor.js'

const { values } = parseArgs({
  options: {
    direct: { type: 'boolean', default: false },
    runs: { type: 'string', default: '5' },
    pools: { type: 'string', default: '150' },
    child: { type: 'boolean', default: false }
  }
})

const trivial = { task: 'sum-of-squares', input: { start: 0, end: 1 } }

async function closeWhileStarting (direct: boolean, pools: number): Promise<void> {
  const options = direct ? { filename: workerEntry, workerData: { nice: 0 } } : threadOptions(workerEntry)
  const startMs: number[] = []
  for (let i = 0; i < 5; i++) {
    const pool = new Piscina({ ...options, minThreads: 1, maxThreads: 1 })
    const started = performance.now()
    await pool.run(trivial)
    startMs.push(performance.now() - started)
    await pool.destroy()
  }
  const median = startMs.sort((a, b) => a - b)[2]!
  for (let i = 0; i < pools; i++) {
    const pool = new Piscina({ ...options, minThreads: 2, maxThreads: 2 })
    await new Promise((resolve) => setTimeout(resolve, median * (0.5 + Math.random() * 0.7)))
    await pool.destroy()
  }
  console.log(`start-up ${median.toFixed(0)} ms`)
}

if (values.child) {
  await closeWhileStarting(values.direct, Number(values.pools))
} else {
  const self = fileURLToPath(import.meta.url)
  let aborted = 0
  for (let run = 1; run <= Number(values.runs); run++) {
    const args = [self, '--child', '--pools', values.pools, ...(values.direct ? ['--direct'] : [])]
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 600_000 })
    const fatal = /Assertion failed.*|FATAL ERROR.*/.exec(child.stderr)?.[0]
    if (child.status !== 0) aborted++
    console.log(`run ${run}: exit ${child.status ?? child.signal}, ${fatal ?? child.stdout.trim()}`)
  }
  console.log(`node ${process.version}, ${values.direct ? 'entry loaded by Piscina directly' : 'through workers/thread-entry.cts'}: ` +
    `${aborted} of ${values.runs} runs aborted, ${values.pools} pools closed during start-up in each`)
}
