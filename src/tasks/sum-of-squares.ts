import { z } from 'zod'
import { compiledOkSerializer } from '../http/compiled-serializer.js'
import { splitRange } from '../compute/split-range.js'
import { MIN_TERMS_PER_CHUNK, TERMS_PER_MS } from '../compute/sum-of-squares.js'
import { defineTask } from './task.js'

const range = {
  start: z.int().default(0).describe('First integer of the range (inclusive); a safe integer, may be negative'),
  end: z.int().describe('End of the range (exclusive); a safe integer, at least `start`')
}

function withRangeChecks<T extends z.ZodType<{ start: number, end: number }>> (schema: T, maxTerms: number) {
  return schema
    .refine((body) => body.end >= body.start, { path: ['end'], message: 'end must be greater than or equal to start' })
    .refine((body) => body.end - body.start <= maxTerms, { path: ['end'], message: `end - start must be at most ${maxTerms}` })
}

export const sumOfSquaresBody = (maxTerms: number) => withRangeChecks(z.strictObject({
  ...range,
  chunks: z.int().min(1).max(256).optional()
    .describe('Sub-ranges to split the work into (never more than the range has terms, nor 4 per pool thread); chosen by the service when omitted')
}), maxTerms).meta({ examples: [{ start: -3, end: 1_000_000_000 }] })

/** The range alone, checked as the synchronous route checks it: a job's input (the service chooses its chunks). */
export const sumOfSquaresRange = (maxTerms: number) => withRangeChecks(z.strictObject(range), maxTerms)

export const sumOfSquaresReply = z.object({
  result: z.string().describe('The exact sum as a base-10 integer string: it can exceed 2^53'),
  start: z.int(),
  end: z.int(),
  terms: z.int(),
  chunks: z.int().describe('Sub-ranges the work was split into (0 for an empty range, 1 when it ran on the event loop)'),
  elapsedMs: z.number()
}).describe('The exact sum').meta({
  examples: [{ result: '333333332833333333500000014', start: -3, end: 1_000_000_000, terms: 1_000_000_003, chunks: 2, elapsedMs: 164.538 }]
})

/** POST /v1/sum-of-squares: the exact sum of i*i over a range (src/compute/sum-of-squares.ts). */
export default defineTask({
  name: 'sum-of-squares',
  summary: 'Exact sum of i*i over start <= i < end',
  input: { json: (config) => sumOfSquaresBody(config.MAX_TERMS) },
  read: ({ body }) => body as z.output<ReturnType<typeof sumOfSquaresBody>>,
  cost: ({ start, end, chunks }, config) => ({
    size: end - start,
    minChunkSize: MIN_TERMS_PER_CHUNK,
    unitsPerMs: TERMS_PER_MS,
    // The client may choose the chunk count; small work it leaves to the service runs on the event loop.
    chunks,
    inlineMaxSize: config.INLINE_MAX_TERMS
  }),
  split: ({ start, end }, parts) => splitRange({ start, end }, parts),
  merge: (sums: bigint[]) => sums.reduce((total, sum) => total + sum, 0n),
  result: sumOfSquaresReply,
  answer: (sum, { start, end }) => ({ result: sum.toString(), start, end, terms: end - start }),
  serializerCompiler: compiledOkSerializer,
  // A job's range goes up to JOB_MAX_TERMS, and its result is the decimal string alone (docs/jobs.md).
  job: {
    input: (config) => sumOfSquaresRange(config.JOB_MAX_TERMS),
    result: { schema: sumOfSquaresReply.shape.result, of: (answer) => answer.result }
  }
})
