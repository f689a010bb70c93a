import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { MODES } from '../src/compute/modes.js'
import { copyToShared } from '../src/compute/shared-values.js'
import { splitRange } from '../src/compute/split-range.js'
import { mergeSumPartials, MIN_VALUES_PER_CHUNK, VALUES_PER_MS } from '../src/compute/sum.js'
import { errorBody } from '../src/error-body.js'
import { Float64OverflowError, NonFiniteValueError } from '../src/errors.js'
import { offload } from '../src/executor/offload.js'
import { float64BodyParser } from '../src/float64-body-parser.js'
import { numberArray } from '../src/number-array.js'
import type { ComputeRouteOptions } from '../src/plugins/compute-scope.js'
import { serverTiming } from '../src/server-timing.js'

export const sumQuery = z.strictObject({
  mode: z.enum(MODES).default('exact')
    .describe('exact: the correctly rounded sum (math.fsum, Math.sumPrecise); fast: a plain float64 loop, order-dependent and inexact')
})

export const sumJsonBody = z.strictObject({
  values: numberArray().describe('The numbers to add; JSON numbers beyond the float64 range (1e999) are refused')
}).meta({ examples: [{ values: [1e308, 1e308, -1e308] }] })

// The parser has already turned the bytes into a Float64Array; the metadata is what OpenAPI shows.
const sumBinaryBody = z.instanceof(Float64Array).meta({
  type: 'string',
  format: 'binary',
  description: 'Raw little-endian IEEE-754 float64 values, 8 bytes each; NaN and infinities are answered with 422'
})

export const sumReply = z.object({
  sum: z.number(),
  count: z.int().describe('How many values were added'),
  mode: z.enum(MODES),
  chunks: z.int().describe('Tasks the values were split into across the pool (0 for no values)'),
  elapsedMs: z.number().describe('Time from the body being read to the answer: the upload itself is not counted')
}).meta({ examples: [{ sum: 1e308, count: 3, mode: 'exact', chunks: 1, elapsedMs: 0.412 }] })

export default async function sumRoute (app: FastifyInstance, { config }: ComputeRouteOptions) {
  app.addContentTypeParser('application/octet-stream', float64BodyParser({ multipleOf: 8, description: 'whole float64 values' }))

  app.withTypeProvider<ZodTypeProvider>().post('/v1/sum', {
    bodyLimit: config.BODY_LIMIT_BYTES,
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
        422: errorBody.describe('A NaN or an infinity in binary input (the message names its index), or a sum beyond the float64 range')
      }
    }
  }, async (request, reply) => {
    const body = request.body as z.output<typeof sumJsonBody> | Float64Array<SharedArrayBuffer>
    const values = body instanceof Float64Array ? body : copyToShared(body.values)
    const { mode } = request.query
    const first = values.byteOffset / 8
    const run = await offload(app.executor, { signal: request.computeSignal, client: request.computeClient, deadline: request.computeDeadline }, {
      task: 'sum',
      size: values.length,
      minChunkSize: MIN_VALUES_PER_CHUNK,
      unitsPerMs: VALUES_PER_MS[mode],
      // Every chunk reads the same SharedArrayBuffer in place: shared, not copied, with each thread.
      split: (parts) => splitRange({ start: first, end: first + values.length }, parts)
        .map(({ start, end }) => ({ buffer: values.buffer, start, end, mode })),
      merge: mergeSumPartials
    })
    const result = run.value
    if (result.kind === 'non-finite') {
      throw new NonFiniteValueError(`Value at index ${result.index - first}`, String(values[result.index - first]))
    }
    if (result.kind === 'overflow') {
      throw new Float64OverflowError('sum', mode === 'exact'
        ? 'its exact value rounds beyond the largest double'
        : 'the float64 running sum reached Infinity (mode=exact fails only if the sum itself is out of range)')
    }
    return { sum: result.sum, count: values.length, mode, chunks: run.chunks, elapsedMs: serverTiming(request, reply, run) }
  })
}
