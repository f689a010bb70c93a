import { mergeDotPartials, MIN_PAIRS_PER_CHUNK, PAIRS_PER_MS } from '../src/compute/dot.js'
import { splitRange } from '../src/compute/split-range.js'
import type { Executor } from '../src/executor/executor.js'
import { offload } from '../src/executor/offload.js'
import { createPoolExecutor } from '../src/executor/pool-executor.js'
import { taskTable } from '../test/support/task-table.js'
import { makePairs } from './dot-kernel.js'
import { formatTable, medianMs } from './measure.js'
import { MiB } from './sum-data.js'

/**
 * Where splitting starts to pay: the same exact dot products through a 2-thread pool kept whole (one
 * task) or split in two, around MIN_PAIRS_PER_CHUNK.
 */
export async function dotSplitBench (): Promise<string> {
  const executor: Executor = createPoolExecutor({ threads: 2, maxQueueMs: 1_000_000, maxOldGenerationMb: 512, tasks: taskTable })
  const rows: string[][] = []
  try {
    for (const count of [MIN_PAIRS_PER_CHUNK / 8, MIN_PAIRS_PER_CHUNK / 4, MIN_PAIRS_PER_CHUNK / 2, MIN_PAIRS_PER_CHUNK, MIN_PAIRS_PER_CHUNK * 2, MIN_PAIRS_PER_CHUNK * 8]) {
      const values = makePairs(count, 'wide', new Float64Array(new SharedArrayBuffer(count * 16)))
      const dot = (chunks: number) => offload(executor, {}, {
        task: 'dot',
        size: count,
        minChunkSize: 1,
        unitsPerMs: PAIRS_PER_MS.exact,
        chunks,
        split: (parts) => splitRange({ start: 0, end: count }, parts).map(({ start, end }) => ({ buffer: values.buffer, n: count, start, end, mode: 'exact' as const })),
        merge: mergeDotPartials
      })
      const whole = await medianMs(15, () => values, () => dot(1))
      const split = await medianMs(15, () => values, () => dot(2))
      rows.push([`${count.toLocaleString('en-US')} pairs (${(count * 16 / MiB).toFixed(2)} MiB)`, whole.toFixed(3), split.toFixed(3), `${(whole / split).toFixed(2)}x`])
    }
  } finally {
    await executor.close()
  }
  return formatTable(['exact dot product through the pool', 'one task, median ms', 'two tasks, median ms', 'speed-up from splitting'], rows)
}
