import { z } from 'zod'
import { mergeSumPartials, MIN_VALUES_PER_CHUNK, VALUES_PER_MS } from '../compute/sum.js'
import { numberArray } from '../uploads/number-array.js'
import { float64Reply, float64Task } from './float64-task.js'

export const sumJsonBody = z.strictObject({
  values: numberArray().describe('The numbers to add; JSON numbers beyond the float64 range (1e999) are refused')
}).meta({ examples: [{ values: [1e308, 1e308, -1e308] }] })

export const sumReply = float64Reply('sum', z.number(), {
  count: 'How many values were added',
  chunks: 'Tasks the values were split into across the pool (0 for no values)'
}).meta({ examples: [{ sum: 1e308, count: 3, mode: 'exact', chunks: 1, elapsedMs: 0.412 }] })

/** POST /v1/sum: the correctly rounded sum of float64 values (src/compute/sum.ts), or a plain loop's. */
export default float64Task({
  name: 'sum',
  summary: 'Sum of uploaded numbers, exact (correctly rounded) or fast',
  exact: 'the correctly rounded sum (math.fsum, Math.sumPrecise)',
  json: sumJsonBody,
  binary: {
    multipleOf: 8,
    description: 'whole float64 values',
    documentation: 'Raw little-endian IEEE-754 float64 values, 8 bytes each; NaN and infinities are answered with 422'
  },
  lists: (body) => [body.values],
  count: (values) => values.length,
  minChunkSize: MIN_VALUES_PER_CHUNK,
  unitsPerMs: VALUES_PER_MS,
  chunk: ({ values, mode }, { start, end }) => ({ buffer: values.buffer, start, end, mode }),
  merge: mergeSumPartials,
  key: 'sum',
  overflowing: 'sum',
  locate: (index, values) => [`Value at index ${index}`, values[index]!],
  result: sumReply,
  unprocessable: 'A NaN or an infinity in binary input (the detail names its index), or a sum beyond the float64 range'
})
