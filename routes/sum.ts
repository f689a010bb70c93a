import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { copyToShared } from '../src/compute/shared-values.js'
import { MIN_VALUES_PER_CHUNK, runSum } from '../src/compute/sum-job.js'
import { SumContentTypeError } from '../src/errors.js'
import { float64BodyParser } from '../src/float64-body-parser.js'
import { errorBody, errorResponses } from '../src/schemas/error.js'

export interface SumRouteOptions {
  /** Largest body accepted, JSON or binary (BODY_LIMIT_BYTES). */
  bodyLimit: number
  threads: number
}

export const sumQuery = z.strictObject({
  mode: z.enum(['exact', 'fast']).default('exact')
    .describe('exact: the correctly rounded sum (math.fsum, Math.sumPrecise); fast: a plain float64 loop, order-dependent and inexact')
})

export const sumJsonBody = z.strictObject({
  values: z.array(z.number()).describe('The numbers to add; JSON numbers beyond the float64 range (1e999) are refused')
}).meta({ examples: [{ values: [1e308, 1e308, -1e308] }] })

// The parser has already turned the bytes into a Float64Array; the metadata is what the OpenAPI
// document shows for a binary body.
const sumBinaryBody = z.instanceof(Float64Array).meta({
  type: 'string',
  format: 'binary',
  description: 'Raw little-endian IEEE-754 float64 values, 8 bytes each; NaN and infinities are answered with 422'
})

export const sumReply = z.object({
  sum: z.number(),
  count: z.int().describe('How many values were added'),
  mode: z.enum(['exact', 'fast']),
  chunks: z.int().describe('Tasks the values were split into across the pool (0 for no values)'),
  elapsedMs: z.number().describe('Time from the body being read to the answer: the upload itself is not counted')
}).meta({ examples: [{ sum: 1e308, count: 3, mode: 'exact', chunks: 1, elapsedMs: 0.412 }] })

export default async function sumRoutes (app: FastifyInstance, { bodyLimit, threads }: SumRouteOptions) {
  const policy = { threads, minTermsPerChunk: MIN_VALUES_PER_CHUNK }
  // Scoped to this plugin: other routes keep their parsers, and answer 415 to binary bodies.
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('application/octet-stream', float64BodyParser(bodyLimit))
  // Any other type (or a body without one) gets a 415 that says what to send.
  app.addContentTypeParser('*', (request, _payload, done) => {
    done(new SumContentTypeError(request.headers['content-type'] ?? '(none)'))
  })

  app.withTypeProvider<ZodTypeProvider>().post('/v1/sum', {
    bodyLimit,
    config: { compute: true },
    schema: {
      summary: 'Sum of uploaded numbers, exact (correctly rounded) or fast',
      querystring: sumQuery,
      body: {
        content: {
          'application/json': { schema: sumJsonBody },
          'application/octet-stream': { schema: sumBinaryBody }
        }
      },
      response: {
        200: sumReply,
        ...errorResponses,
        415: errorBody.describe('Content type other than application/json or application/octet-stream'),
        422: errorBody.describe('A NaN or an infinity in binary input (the message names its index), or a sum beyond the float64 range')
      }
    }
  }, async (request) => {
    const started = performance.now()
    const body = request.body as z.output<typeof sumJsonBody> | Float64Array<SharedArrayBuffer> | undefined
    if (body === undefined) throw new SumContentTypeError('(none)')
    const values = body instanceof Float64Array ? body : copyToShared(body.values)
    const { mode } = request.query
    const outcome = await runSum(app.executor, policy, values, mode, { signal: request.computeSignal })
    return {
      sum: outcome.sum,
      count: values.length,
      mode,
      chunks: outcome.chunks,
      elapsedMs: Math.round((performance.now() - started) * 1000) / 1000
    }
  })
}
