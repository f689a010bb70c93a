import { describe, expect, it } from 'vitest'
import { createInlineExecutor } from '../src/executor/inline-executor.js'
import { runSumOfSquares, runsInline, type SumOfSquaresPolicy } from '../src/compute/sum-of-squares-job.js'
import { closedForm } from './helper.js'

/** The inline executor, counting the tasks it settles (through its events, whichever method ran them). */
function countingExecutor () {
  const executor = createInlineExecutor()
  const calls: string[] = []
  executor.on((event) => { if (event.type === 'task-settled') calls.push(event.task) })
  return { executor, calls }
}

const policy: SumOfSquaresPolicy = { threads: 2, minTermsPerChunk: 1000, inlineMaxTerms: 500 }

describe('running small ranges on the event loop', () => {
  it('sums a range within inlineMaxTerms without handing it to the executor', async () => {
    const { executor, calls } = countingExecutor()
    const result = await runSumOfSquares(executor, policy, { start: -200, end: 300 })
    expect(result).toMatchObject({ sum: closedForm(-200, 300), chunks: 1 })
    expect(result.kernelMs).toBeGreaterThanOrEqual(0)
    expect(calls).toEqual([])
  })

  it('hands a range one term over the limit to the executor', async () => {
    const { executor, calls } = countingExecutor()
    const result = await runSumOfSquares(executor, policy, { start: 0, end: 501 })
    expect(result.sum).toBe(closedForm(0, 501))
    expect(calls).toEqual(['sum-of-squares'])
  })

  it('always uses the executor when the client asks for a chunk count', async () => {
    const { executor, calls } = countingExecutor()
    await runSumOfSquares(executor, policy, { start: 0, end: 10, chunks: 2 })
    expect(calls).toHaveLength(2)
  })

  it('never runs inline when inlineMaxTerms is 0, not even an empty range', () => {
    expect(runsInline({ start: 5, end: 5 }, { ...policy, inlineMaxTerms: 0 })).toBe(false)
    expect(runsInline({ start: 5, end: 6 }, { ...policy, inlineMaxTerms: 0 })).toBe(false)
    expect(runsInline({ start: 5, end: 5 }, policy)).toBe(true)
  })

  it('still honours an abort signal that has already fired', async () => {
    const { executor } = countingExecutor()
    await expect(runSumOfSquares(executor, policy, { start: 0, end: 10 }, { signal: AbortSignal.abort() })).rejects.toThrow()
  })
})
