import { z } from 'zod'
import { copyToShared } from '../compute/shared-values.js'
import { splitRange } from '../compute/split-range.js'
import { mergeStatsPartials, MIN_VALUES_PER_CHUNK, overflowingStatistics, VALUES_PER_MS, type StatsResult } from '../compute/stats.js'
import { Float64OverflowError, NonFiniteValueError } from '../errors.js'
import { numberArray } from '../uploads/number-array.js'
import { signedZeroSerializer } from '../http/signed-zero-json.js'
import { defineTask } from './task.js'

const statsJsonBody = z.strictObject({
  values: numberArray().describe('The data; JSON numbers beyond the float64 range (1e999) are refused, -0.0 keeps its sign')
}).meta({ examples: [{ values: [2.5, 3.25, 5.5, 11.25] }] })

const statistic = (what: string) => z.number().nullable().describe(what)

export const statsReply = z.object({
  count: z.int().describe('How many values'),
  sum: z.number().describe('math.fsum: the correctly rounded sum (0 for no values)'),
  mean: statistic('statistics.mean: the exact mean rounded once; null for no values'),
  variance: statistic('statistics.variance, the sample variance: exact, rounded once; null for fewer than two values'),
  stdev: statistic('statistics.stdev: the correctly rounded square root of the exact sample variance; null for fewer than two values'),
  pvariance: statistic('statistics.pvariance, the population variance: exact, rounded once; null for no values'),
  pstdev: statistic('statistics.pstdev: the correctly rounded square root of the exact population variance; null for no values'),
  min: statistic('The first least value, as Python\'s min; null for no values'),
  max: statistic('The first greatest value, as Python\'s max; null for no values'),
  chunks: z.int().describe('Tasks the values were split into across the pool (0 for no values)'),
  elapsedMs: z.number().describe('Time from the body being read to the answer: the upload itself is not counted')
}).meta({
  examples: [{ count: 4, sum: 22.5, mean: 5.625, variance: 15.6875, stdev: 3.960744879438715, pvariance: 11.765625, pstdev: 3.430105683503061, min: 2.5, max: 11.25, chunks: 1, elapsedMs: 0.512 }]
})

/** POST /v1/stats: Python 3.13's statistics of float64 values, bit for bit (src/compute/stats.ts). */
export default defineTask({
  name: 'stats',
  summary: 'Exact statistics of uploaded numbers: what Python\'s statistics module answers, bit for bit',
  input: {
    json: () => statsJsonBody,
    binary: {
      multipleOf: 8,
      description: 'whole float64 values',
      documentation: 'Raw little-endian IEEE-754 float64 values, 8 bytes each; NaN and infinities are answered with 422'
    }
  },
  // The values span their whole buffer (the parser and copyToShared allocate them exactly).
  read: ({ body }) => body instanceof Float64Array ? body : copyToShared(body.values),
  cost: (values) => ({ size: values.length, minChunkSize: MIN_VALUES_PER_CHUNK, unitsPerMs: VALUES_PER_MS }),
  // Every chunk reads the same SharedArrayBuffer in place: shared, not copied, with each thread.
  split: (values, parts) => splitRange({ start: 0, end: values.length }, parts).map(({ start, end }) => ({ buffer: values.buffer, start, end })),
  merge: mergeStatsPartials,
  result: statsReply,
  answer: (result: StatsResult, values) => {
    if (result.kind === 'non-finite') throw new NonFiniteValueError(`Value at index ${result.index}`, String(values[result.index]))
    const [first, ...others] = overflowingStatistics(result.stats)
    if (first !== undefined) {
      throw new Float64OverflowError(first, `its exact value rounds beyond the largest double${others.length > 0 ? ` (so does the ${others.join(', the ')})` : ''}`)
    }
    return result.stats as { [K in keyof typeof result.stats]: Exclude<typeof result.stats[K], 'overflow'> }
  },
  errors: {
    422: {
      why: 'A NaN or an infinity in binary input (the detail names its index), or a statistic beyond the float64 range (the detail names it)',
      codes: [NonFiniteValueError.problem.code, Float64OverflowError.problem.code]
    }
  },
  // -0 stays -0 over HTTP: a min or max is one of the client's own values.
  serializerCompiler: signedZeroSerializer
})
