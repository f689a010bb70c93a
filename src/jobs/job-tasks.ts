import { z } from 'zod'
import type { Config } from '../platform/config.js'
import type { AnyTask } from '../tasks/task.js'
import type { Float64Layout } from '../uploads/float64-body-parser.js'

/**
 * A declared task as a job runs it (src/tasks/<name>.ts): the job code knows no task by name. A job
 * keeps the input as the client sent it; every replica reads it into the task's input, cuts it with
 * the task's own split, and finishes with the task's own merge and answer, as the route does.
 */
export interface JobTask {
  name: string
  /** The job's input schema (POST /v1/jobs), and its result's (the job document). */
  input: z.ZodType
  result: z.ZodType
  /** The binary layout its route takes (application/octet-stream float64 values), where it takes one. */
  binary?: Float64Layout | undefined
  /** Units of work in a stored input (the JSON input, or a binary one's values): the job's `total`, what JOB_CHUNK_TERMS cuts. */
  size(input: unknown): number
  /** The kernels' inputs of the job's `chunks` chunks, in order. */
  split(input: unknown, chunks: number): unknown[]
  /** The job's result from its chunks' partials, in chunk order; throws the task's own errors (its 422s). */
  finish(partials: unknown[], input: unknown): unknown
}

export type JobTasks = ReadonlyMap<string, JobTask>

/** The job of every task that takes a JSON body. */
export function jobTasks (declarations: AnyTask[], config: Config): JobTasks {
  return new Map(declarations.map((task) => [task.name, jobTask(task, config)]))
}

function jobTask (task: AnyTask, config: Config): JobTask {
  // A job's query string names its task only: the task's own query takes its defaults (mode=exact).
  const query: unknown = task.input.query?.parse({})
  const read = (input: unknown) => task.read({ query, body: input })
  const result = task.job?.result
  return {
    name: task.name,
    input: task.job?.input?.(config) ?? task.input.json(config),
    result: result?.schema ?? withoutRunFields(task.result),
    binary: task.input.binary,
    size: (input) => task.cost(read(input), config).size,
    split: (input, chunks) => task.split(read(input), chunks),
    finish (partials, input) {
      const answer = task.answer(task.merge(partials), read(input))
      return result === undefined ? answer : result.of(answer)
    }
  }
}

/** The route's answer without `chunks` and `elapsedMs`, which describe one request's run. */
function withoutRunFields (schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodObject ? schema.omit({ chunks: true, elapsedMs: true }) : schema
}
