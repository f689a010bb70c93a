import { z } from 'zod'
import { mergeDotPartials, MIN_PAIRS_PER_CHUNK, PAIRS_PER_MS } from '../compute/dot.js'
import { numberArray } from '../uploads/number-array.js'
import { float64Reply, float64Task } from './float64-task.js'

const vector = numberArray().describe('JSON numbers beyond the float64 range (1e999) are refused')

export const dotJsonBody = z.strictObject({ x: vector, y: vector })
  // Compared only once x and y are both arrays of numbers.
  .refine((body) => body.x.length === body.y.length, { path: ['y'], message: 'y must have as many numbers as x', when: (payload) => payload.issues.length === 0 })
  .meta({ examples: [{ x: [1e200, 1e200, 3], y: [1e200, -1e200, 0.1] }] })

export const dotReply = float64Reply('dot', z.number().describe('The sum of x[i] * y[i]; 0 for empty vectors'), {
  count: 'How many pairs were multiplied',
  chunks: 'Tasks the pairs were split into across the pool (0 for no pairs)'
}).meta({ examples: [{ dot: 0.30000000000000004, count: 3, mode: 'exact', chunks: 1, elapsedMs: 0.374 }] })

/** POST /v1/dot: the correctly rounded dot product of two float64 vectors (src/compute/dot.ts), or a plain loop's. */
export default float64Task({
  name: 'dot',
  summary: 'Dot product of two vectors, exact (correctly rounded) or fast',
  exact: 'the correctly rounded dot product (each product exact, one rounding)',
  json: dotJsonBody,
  binary: {
    multipleOf: 16,
    description: 'two float64 vectors of equal length, x then y',
    documentation: 'Little-endian IEEE-754 float64 values, 8 bytes each: all of x, then all of y (so 16 bytes a pair); NaN and infinities are answered with 422'
  },
  lists: (body) => [body.x, body.y],
  count: (values) => values.length / 2,
  minChunkSize: MIN_PAIRS_PER_CHUNK,
  unitsPerMs: PAIRS_PER_MS,
  chunk: ({ values, mode }, { start, end }) => ({ buffer: values.buffer, n: values.length / 2, start, end, mode }),
  merge: mergeDotPartials,
  key: 'dot',
  overflowing: 'dot product',
  locate: (i, values) => Number.isFinite(values[i]!)
    ? [`y[${i}]`, values[values.length / 2 + i]!]
    : [`x[${i}]`, values[i]!],
  result: dotReply,
  unprocessable: 'A NaN or an infinity in binary input (the detail names it, as x[i] or y[i]), or a dot product beyond the float64 range'
})
