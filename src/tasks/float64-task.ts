import { z } from 'zod'
import type { Float64Partial, Float64Result } from '../compute/float64-partials.js'
import { MODES, type Mode } from '../compute/modes.js'
import { copyToShared } from '../compute/shared-values.js'
import { splitRange, type Range } from '../compute/split-range.js'
import { Float64OverflowError, NonFiniteValueError } from '../errors.js'
import { defineTask, type BinaryInput } from './task.js'

/** A float64 task's input: its values in shared memory, read in place by every chunk, and the mode. */
export interface Float64Input {
  values: Float64Array<SharedArrayBuffer>
  mode: Mode
}

/**
 * What a task over float64 values (sum, dot) declares of its own; the rest is shared: `?mode=`,
 * JSON or binary input in one SharedArrayBuffer, splitting by units of work, the 422 for the first
 * NaN or infinity and for a result beyond the float64 range, and the answer's count and mode.
 */
export interface Float64TaskSpec<K extends string, J extends z.ZodType, Chunk, Reply extends object> {
  name: string
  summary: string
  /** What `mode=exact` computes, for the query's description. */
  exact: string
  json: J
  binary: BinaryInput
  /** The JSON body's number lists, laid end to end in shared memory as the binary body lays them. */
  lists(body: z.output<J>): ReadonlyArray<readonly number[]>
  /** Units of work (values, pairs) in the values: the answer's `count`. */
  count(values: Float64Array): number
  minChunkSize: number
  unitsPerMs: Record<Mode, number>
  /** The kernel's input for units [start, end). */
  chunk(input: Float64Input, range: Range): Chunk
  merge(partials: Float64Partial[]): Float64Result<K>
  /** The answer's field for the result, and what the 422 calls it when it overflows. */
  key: K
  overflowing: string
  /** The name and value of the input at a non-finite index of the merged result. */
  locate(index: number, values: Float64Array): [string, number]
  result: z.ZodType<Reply>
  /** Why this task answers 422, for the OpenAPI document. */
  unprocessable: string
}

export function float64Task<K extends string, J extends z.ZodType, Chunk, Reply extends object> (spec: Float64TaskSpec<K, J, Chunk, Reply>) {
  const query = z.strictObject({
    mode: z.enum(MODES).default('exact').describe(`exact: ${spec.exact}; fast: a plain float64 loop, order-dependent and inexact`)
  })
  return defineTask({
    name: spec.name,
    summary: spec.summary,
    input: { query, json: () => spec.json, binary: spec.binary },
    read: ({ query, body }): Float64Input => ({
      values: body instanceof Float64Array ? body : copyToShared(...spec.lists(body)),
      mode: query.mode
    }),
    cost: (input) => ({ size: spec.count(input.values), minChunkSize: spec.minChunkSize, unitsPerMs: spec.unitsPerMs[input.mode] }),
    // Every chunk reads the same SharedArrayBuffer in place: shared, not copied, with each thread.
    // The values span their whole buffer (the parser and copyToShared allocate them exactly).
    split: (input, parts): Chunk[] => splitRange({ start: 0, end: spec.count(input.values) }, parts).map((range) => spec.chunk(input, range)),
    merge: spec.merge,
    result: spec.result,
    answer: (result, { values, mode }) => ({ [spec.key]: valueOf(result, spec, mode, values), count: spec.count(values), mode }) as unknown as Omit<Reply, 'chunks' | 'elapsedMs'>,
    errors: { 422: { why: spec.unprocessable, codes: [NonFiniteValueError.problem.code, Float64OverflowError.problem.code] } }
  })
}

/** The result's value, or the task's 422: its first non-finite input, or a value beyond the float64 range. */
function valueOf<K extends string> (result: Float64Result<K>, { key, locate, overflowing }: Pick<Float64TaskSpec<K, z.ZodType, unknown, object>, 'key' | 'locate' | 'overflowing'>, mode: Mode, values: Float64Array): number {
  if (result.kind === 'non-finite') {
    // K is never 'non-finite', which TypeScript cannot know of a type parameter.
    const [name, value] = locate((result as { index: number }).index, values)
    throw new NonFiniteValueError(name, String(value))
  }
  if (result.kind === 'overflow') {
    throw new Float64OverflowError(overflowing, mode === 'exact'
      ? 'its exact value rounds beyond the largest double'
      : `the float64 running sum reached Infinity (mode=exact fails only if the ${overflowing} itself is out of range)`)
  }
  return (result as Record<K, number>)[key]
}

/** The answer's shared fields, after the result's own (`sum`, `dot`); the route adds `chunks` and `elapsedMs`. */
export function float64Reply<K extends string> (key: K, value: z.ZodNumber, described: { count: string, chunks: string }) {
  return z.object({
    ...({ [key]: value } as Record<K, z.ZodNumber>),
    count: z.int().describe(described.count),
    mode: z.enum(MODES),
    chunks: z.int().describe(described.chunks),
    elapsedMs: z.number().describe('Time from the body being read to the answer: the upload itself is not counted')
  })
}
