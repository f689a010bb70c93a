import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { MIN_TERMS_PER_CHUNK, runSumOfSquares } from '../src/compute/sum-of-squares-job.js'
import { errorResponses } from '../src/schemas/error.js'

export interface SumOfSquaresRouteOptions {
  maxTerms: number
  threads: number
  inlineMaxTerms: number
}

export const sumOfSquaresBody = (maxTerms: number) => z.strictObject({
  start: z.int().default(0).describe('First integer of the range (inclusive); a safe integer, may be negative'),
  end: z.int().describe('End of the range (exclusive); a safe integer, at least `start`'),
  chunks: z.int().min(1).max(256).optional()
    .describe('Sub-ranges to split the work into (never more than the range has terms); chosen by the service when omitted')
})
  .refine((body) => body.end >= body.start, { path: ['end'], message: 'end must be greater than or equal to start' })
  .refine((body) => body.end - body.start <= maxTerms, { path: ['end'], message: `end - start must be at most ${maxTerms}` })
  .meta({ examples: [{ start: -3, end: 1_000_000_000 }] })

export const sumOfSquaresReply = z.object({
  result: z.string().describe('The exact sum as a base-10 integer string: it can exceed 2^53'),
  start: z.int(),
  end: z.int(),
  terms: z.int(),
  chunks: z.int(),
  elapsedMs: z.number()
}).describe('The exact sum').meta({
  examples: [{ result: '333333332833333333500000014', start: -3, end: 1_000_000_000, terms: 1_000_000_003, chunks: 2, elapsedMs: 164.538 }]
})

export default async function sumOfSquaresRoutes (app: FastifyInstance, { maxTerms, threads, inlineMaxTerms }: SumOfSquaresRouteOptions) {
  const policy = { threads, minTermsPerChunk: MIN_TERMS_PER_CHUNK, inlineMaxTerms }

  app.withTypeProvider<ZodTypeProvider>().post('/v1/sum-of-squares', {
    config: { compute: true },
    schema: {
      summary: 'Exact sum of i*i over start <= i < end',
      body: sumOfSquaresBody(maxTerms),
      response: { 200: sumOfSquaresReply, ...errorResponses }
    }
  }, async (request, reply) => {
    const started = performance.now()
    const { start, end, chunks } = request.body
    const outcome = await runSumOfSquares(app.executor, policy, { start, end, chunks }, { signal: request.computeSignal })
    const elapsedMs = Math.round((performance.now() - started) * 1000) / 1000
    // Kernel time beside the handler's wall time, per request, for load tests and browser dev tools:
    // one header, no shared state on the hot path, the same for both executors.
    reply.header('server-timing', `kernel;dur=${outcome.kernelMs.toFixed(4)}, total;dur=${elapsedMs}`)
    return {
      result: outcome.sum.toString(),
      start,
      end,
      terms: end - start,
      chunks: outcome.chunks,
      elapsedMs
    }
  })
}
