import { describe, expect, it } from 'vitest'
import { splitRange } from '../src/compute/split-range.js'
import { createInlineExecutor } from '../src/executor/inline-executor.js'
import { offload } from '../src/executor/offload.js'
import { closedForm } from './helper.js'
import { taskTable } from './support/task-table.js'

/** The inline executor, counting the tasks it settles (through its events, whichever method ran them). */
function countingExecutor (threads = 2) {
  const executor = createInlineExecutor({ threads, tasks: taskTable })
  const calls: string[] = []
  executor.on((event) => { if (event.type === 'task-settled') calls.push(event.task) })
  return { executor, calls }
}

const sumOfSquares = (start: number, end: number, options: { chunks?: number, inlineMaxSize?: number } = {}) => ({
  task: 'sum-of-squares' as const,
  size: end - start,
  minChunkSize: 1000,
  unitsPerMs: 1000,
  inlineMaxSize: 500,
  ...options,
  split: (parts: number) => splitRange({ start, end }, parts),
  merge: (sums: bigint[]) => sums.reduce((total, sum) => total + sum, 0n)
})

describe('running small work on the event loop', () => {
  it('runs work within inlineMaxSize without handing it to the executor', async () => {
    const { executor, calls } = countingExecutor()
    const result = await offload(executor, {}, sumOfSquares(-200, 300))
    expect(result).toMatchObject({ value: closedForm(-200, 300), chunks: 1 })
    expect(result.kernelMs).toBeGreaterThanOrEqual(0)
    expect(calls).toEqual([])
  })

  it('hands work one unit over the limit to the executor', async () => {
    const { executor, calls } = countingExecutor()
    const result = await offload(executor, {}, sumOfSquares(0, 501))
    expect(result.value).toBe(closedForm(0, 501))
    expect(calls).toEqual(['sum-of-squares'])
  })

  it('always uses the executor when the client asks for a chunk count', async () => {
    const { executor, calls } = countingExecutor()
    await offload(executor, {}, sumOfSquares(0, 10, { chunks: 2 }))
    expect(calls).toHaveLength(2)
  })

  it('never runs inline when inlineMaxSize is 0, and runs nothing at all for no work', async () => {
    const { executor, calls } = countingExecutor()
    expect(await offload(executor, {}, sumOfSquares(5, 6, { inlineMaxSize: 0 }))).toMatchObject({ value: 25n, chunks: 1 })
    expect(calls).toEqual(['sum-of-squares'])
    expect(await offload(executor, {}, sumOfSquares(5, 5, { inlineMaxSize: 0 }))).toEqual({ value: 0n, chunks: 0, kernelMs: 0 })
    expect(calls).toHaveLength(1)
  })

  it('still honours an abort signal that has already fired', async () => {
    const { executor } = countingExecutor()
    const signal = AbortSignal.abort(new Error('gone'))
    await expect(offload(executor, { signal }, sumOfSquares(0, 10))).rejects.toThrow('gone')
    await expect(offload(executor, { signal }, sumOfSquares(0, 10_000))).rejects.toThrow()
  })
})

describe('choosing chunks', () => {
  const { executor } = countingExecutor(4)

  it('keeps work too small to pay for a hand-off in one chunk', () => {
    expect(executor.chunksFor(1999, 1000)).toBe(1)
  })

  it('uses every thread for large work, and no more', () => {
    expect(executor.chunksFor(2000, 1000)).toBe(2)
    expect(executor.chunksFor(1e9, 1000)).toBe(4)
  })

  it('honours an explicit request but never cuts work into more pieces than it has units', () => {
    expect(executor.chunksFor(10, 1000, 7)).toBe(7)
    expect(executor.chunksFor(3, 1000, 200)).toBe(3)
    expect(executor.chunksFor(0, 1000, 5)).toBe(1)
  })

  it('splits, runs and merges across the chunks it chose, gathering exactly', async () => {
    const { executor, calls } = countingExecutor(3)
    const result = await offload(executor, {}, sumOfSquares(-5000, 1_000_000))
    expect(result).toMatchObject({ value: closedForm(-5000, 1_000_000), chunks: 3 })
    expect(calls).toEqual(['sum-of-squares', 'sum-of-squares', 'sum-of-squares'])
  })
})
