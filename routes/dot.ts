import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { mergeDotPartials, MIN_PAIRS_PER_CHUNK, PAIRS_PER_MS } from '../src/compute/dot.js'
import { MODES } from '../src/compute/modes.js'
import { copyToShared } from '../src/compute/shared-values.js'
import { splitRange } from '../src/compute/split-range.js'
import { errorBody } from '../src/error-body.js'
import { Float64OverflowError, NonFiniteValueError } from '../src/errors.js'
import { offload } from '../src/executor/offload.js'
import { float64BodyParser } from '../src/float64-body-parser.js'
import { numberArray } from '../src/number-array.js'
import type { ComputeRouteOptions } from '../src/plugins/compute-scope.js'
import { serverTiming } from '../src/server-timing.js'

export const dotQuery = z.strictObject({
  mode: z.enum(MODES).default('exact')
    .describe('exact: the correctly rounded dot product (each product exact, one rounding); fast: a plain float64 loop, order-dependent and inexact')
})

const vector = numberArray().describe('JSON numbers beyond the float64 range (1e999) are refused')

export const dotJsonBody = z.strictObject({ x: vector, y: vector })
  // Compared only once x and y are both arrays of numbers.
  .refine((body) => body.x.length === body.y.length, { path: ['y'], message: 'y must have as many numbers as x', when: (payload) => payload.issues.length === 0 })
  .meta({ examples: [{ x: [1e200, 1e200, 3], y: [1e200, -1e200, 0.1] }] })

// The parser has already turned the bytes into a Float64Array; the metadata is what OpenAPI shows.
const dotBinaryBody = z.instanceof(Float64Array).meta({
  type: 'string',
  format: 'binary',
  description: 'Little-endian IEEE-754 float64 values, 8 bytes each: all of x, then all of y (so 16 bytes a pair); NaN and infinities are answered with 422'
})

export const dotReply = z.object({
  dot: z.number().describe('The sum of x[i] * y[i]; 0 for empty vectors'),
  count: z.int().describe('How many pairs were multiplied'),
  mode: z.enum(MODES),
  chunks: z.int().describe('Tasks the pairs were split into across the pool (0 for no pairs)'),
  elapsedMs: z.number().describe('Time from the body being read to the answer: the upload itself is not counted')
}).meta({ examples: [{ dot: 0.30000000000000004, count: 3, mode: 'exact', chunks: 1, elapsedMs: 0.374 }] })

export default async function dotRoute (app: FastifyInstance, { config }: ComputeRouteOptions) {
  app.addContentTypeParser('application/octet-stream', float64BodyParser({ multipleOf: 16, description: 'two float64 vectors of equal length, x then y' }))

  app.withTypeProvider<ZodTypeProvider>().post('/v1/dot', {
    bodyLimit: config.BODY_LIMIT_BYTES,
    schema: {
      summary: 'Dot product of two vectors, exact (correctly rounded) or fast',
      querystring: dotQuery,
      body: {
        content: {
          'application/json': { schema: dotJsonBody },
          'application/octet-stream': { schema: dotBinaryBody }
        }
      },
      response: {
        200: dotReply,
        422: errorBody.describe('A NaN or an infinity in binary input (the message names it, as x[i] or y[i]), or a dot product beyond the float64 range')
      }
    }
  }, async (request, reply) => {
    const body = request.body as z.output<typeof dotJsonBody> | Float64Array<SharedArrayBuffer>
    // x then y in one SharedArrayBuffer; the parser's array always spans its whole buffer.
    const values = body instanceof Float64Array ? body : copyToShared(body.x, body.y)
    const n = values.length / 2
    const { mode } = request.query
    const run = await offload(app.executor, { signal: request.computeSignal, client: request.computeClient, deadline: request.computeDeadline }, {
      task: 'dot',
      size: n,
      minChunkSize: MIN_PAIRS_PER_CHUNK,
      unitsPerMs: PAIRS_PER_MS[mode],
      // Every chunk reads the same SharedArrayBuffer in place: shared, not copied, with each thread.
      split: (parts) => splitRange({ start: 0, end: n }, parts).map(({ start, end }) => ({ buffer: values.buffer, n, start, end, mode })),
      merge: mergeDotPartials
    })
    const result = run.value
    if (result.kind === 'non-finite') {
      const i = result.index
      throw Number.isFinite(values[i]!)
        ? new NonFiniteValueError(`y[${i}]`, String(values[n + i]))
        : new NonFiniteValueError(`x[${i}]`, String(values[i]))
    }
    if (result.kind === 'overflow') {
      throw new Float64OverflowError('dot product', mode === 'exact'
        ? 'its exact value rounds beyond the largest double'
        : 'the float64 running sum reached Infinity (mode=exact fails only if the dot product itself is out of range)')
    }
    return { dot: result.dot, count: n, mode, chunks: run.chunks, elapsedMs: serverTiming(request, reply, run) }
  })
}
