import { splitRange } from '../src/compute/split-range.js'
import { mergeSumPartials, MIN_VALUES_PER_CHUNK } from '../src/compute/sum.js'
import type { Executor } from '../src/executor/executor.js'
import { offload } from '../src/executor/offload.js'
import { createPoolExecutor } from '../src/executor/pool-executor.js'
import { taskTable } from '../test/support/task-table.js'
import { formatTable, medianMs } from './measure.js'
import { MiB, makeValues } from './sum-data.js'

function filled (buffer: ArrayBuffer | SharedArrayBuffer): ArrayBuffer | SharedArrayBuffer {
  makeValues(buffer.byteLength / 8, 'wide', new Float64Array(buffer))
  return buffer
}

/**
 * What handing a request's buffer to a worker costs, by the three ways to do it, with a task that reads
 * no values (pure hand-off), beside the exact sum of the whole buffer in one task for scale.
 */
export async function sumHandoffBench (): Promise<string> {
  const executor = createPoolExecutor({ threads: 1, maxQueueMs: 1_000_000, maxOldGenerationMb: 512, tasks: taskTable })
  const none = (buffer: ArrayBufferLike, transferList?: ArrayBuffer[]) =>
    executor.execute('sum', { buffer, start: 0, end: 0, mode: 'exact' }, { transferList })
  const rows: string[][] = []
  try {
    for (const bytes of [8 * MiB, 64 * MiB]) {
      const plain = filled(new ArrayBuffer(bytes))
      const shared = filled(new SharedArrayBuffer(bytes))
      const size = `${bytes / MiB} MiB`
      const copy = await medianMs(9, () => plain, (buffer) => none(buffer))
      // A transferred buffer is gone from this thread afterwards: each run gets a new one, untimed.
      const move = await medianMs(9, () => new ArrayBuffer(bytes), (buffer) => none(buffer, [buffer]))
      const share = await medianMs(9, () => shared, (buffer) => none(buffer))
      const sum = await medianMs(9, () => shared, (buffer) => executor.execute('sum', { buffer, start: 0, end: bytes / 8, mode: 'exact' }))
      rows.push(
        [`structured clone (copy), ${size}`, copy.toFixed(3), `${(copy / share).toFixed(0)}x`],
        [`transfer (Piscina.move / transferList), ${size}`, move.toFixed(3), `${(move / share).toFixed(1)}x`],
        [`SharedArrayBuffer (what the route does), ${size}`, share.toFixed(3), '1x'],
        [`for scale: exact sum of all ${bytes / 8 / 1e6}M values in that one task, ${size}`, sum.toFixed(3), `${(sum / share).toFixed(0)}x`]
      )
    }
  } finally {
    await executor.close()
  }
  return formatTable(['hand-off of one buffer to a worker (round trip, one thread)', 'median ms', 'vs shared'], rows)
}

/**
 * Where splitting starts to pay: the same exact sums through a 2-thread pool kept whole (one task) or
 * split in two, around MIN_VALUES_PER_CHUNK.
 */
export async function sumSplitBench (): Promise<string> {
  const executor: Executor = createPoolExecutor({ threads: 2, maxQueueMs: 1_000_000, maxOldGenerationMb: 512, tasks: taskTable })
  const rows: string[][] = []
  try {
    for (const count of [MIN_VALUES_PER_CHUNK / 8, MIN_VALUES_PER_CHUNK / 2, MIN_VALUES_PER_CHUNK, MIN_VALUES_PER_CHUNK * 2, MIN_VALUES_PER_CHUNK * 8]) {
      const values = makeValues(count, 'wide', new Float64Array(new SharedArrayBuffer(count * 8))) as Float64Array<SharedArrayBuffer>
      const sum = (chunks: number) => offload(executor, {}, {
        task: 'sum',
        size: values.length,
        minChunkSize: 1,
        unitsPerMs: 250_000,
        chunks,
        split: (parts) => splitRange({ start: 0, end: values.length }, parts).map(({ start, end }) => ({ buffer: values.buffer, start, end, mode: 'exact' as const })),
        merge: mergeSumPartials
      })
      const whole = await medianMs(15, () => values, () => sum(1))
      const split = await medianMs(15, () => values, () => sum(2))
      rows.push([`${count.toLocaleString('en-US')} values (${(count * 8 / MiB).toFixed(2)} MiB)`, whole.toFixed(3), split.toFixed(3), `${(whole / split).toFixed(2)}x`])
    }
  } finally {
    await executor.close()
  }
  return formatTable(['exact sum through the pool', 'one task, median ms', 'two tasks, median ms', 'speed-up from splitting'], rows)
}
