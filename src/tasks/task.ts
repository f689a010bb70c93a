import type { z } from 'zod'
import type { compiledOkSerializer } from '../http/compiled-serializer.js'
import type { Config } from '../platform/config.js'
import type { Float64Layout } from '../uploads/float64-body-parser.js'

/**
 * One compute task, declared once: the route `POST /v1/<name>` (routes/compute.ts), its OpenAPI
 * operation, its admission cost, and its metric labels and span names all come from this. The
 * kernel a worker runs for each chunk is beside it in src/tasks/registry.ts, which workers load
 * without loading this (and zod).
 */
export interface TaskDeclaration<Q extends z.ZodType | undefined, J extends z.ZodType, In, Chunk, Partial, Merged, Reply extends object> {
  /** The task's one name: its route's last segment unless `path` says otherwise, its kernel, its metrics and spans. */
  name: string
  /** The route, when it is not `/v1/<name>` (a renamed or versioned route keeps every guard). */
  path?: string
  /** The OpenAPI operationId, when it is not the name in camelCase. */
  operationId?: string
  summary: string
  input: TaskInput<Q, J>
  /** The request's body and query as the work's input: what cost, split and answer read. */
  read(request: { query: Q extends z.ZodType ? z.output<Q> : undefined, body: z.output<J> | Float64Array<SharedArrayBuffer> }): In
  /** Its size in units of work and their price, for admission and chunking (src/executor/offload.ts). */
  cost(input: In, config: Config): TaskCost
  /** The inputs of `parts` chunks, in order: one structured-cloneable value each, for the kernel. */
  split(input: In, parts: number): Chunk[]
  /** Combines the kernels' partial results, given in chunk order. */
  merge(partials: Partial[]): Merged
  /** The 200 answer's schema, with an OpenAPI example; `chunks` and `elapsedMs` are filled in by the route. */
  result: z.ZodType<Reply>
  /** The answer from the merged result; throws the task's own errors (422s), which `errors` documents. */
  answer(merged: Merged, input: In): Omit<Reply, 'chunks' | 'elapsedMs'>
  /** The statuses only this task answers with: why, and the codes of the errors it throws (the compute scope documents the shared ones). */
  errors?: Record<number, TaskErrors>
  /** A hot route's 200 serializer (src/http/compiled-serializer.ts); the zod type provider's otherwise. */
  serializerCompiler?: typeof compiledOkSerializer
  /** What its job (`POST /v1/jobs`, src/jobs/job-tasks.ts) takes and answers, where not the route's JSON body and answer. */
  job?: TaskJob<Reply>
}

/** A task's job, where it differs from the route: a job runs the same split, kernel, merge and answer. */
export interface TaskJob<Reply> {
  /** The job's input: the route's JSON body without what the service chooses, within the job limits. */
  input?(config: Config): z.ZodType
  /** The job document's `result`: its schema and its value from the route's answer. */
  result?: { schema: z.ZodType, of(answer: Omit<Reply, 'chunks' | 'elapsedMs'>): unknown }
}

export interface TaskInput<Q extends z.ZodType | undefined, J extends z.ZodType> {
  query?: Q
  /** The JSON body's schema, with an OpenAPI example: from the config where a limit is configured. */
  json(config: Config): J
  /** The binary layout, where the task also takes application/octet-stream float64 values (BODY_LIMIT_BYTES). */
  binary?: BinaryInput
}

export interface BinaryInput extends Float64Layout {
  /** What the OpenAPI document says of the body. */
  documentation: string
}

/** Why a task answers a status of its own, and the codes it may carry (`SVC_*`, as src/errors.ts declares them). */
export interface TaskErrors {
  why: string
  codes: readonly string[]
}

/** What admission and chunking need to know of a request's work (src/executor/offload.ts). */
export interface TaskCost {
  /** Units of work (terms, values, pairs) that chunks are sized by. */
  size: number
  /** Units one thread gets through per millisecond (an estimate): what the work counts for in the queue. */
  unitsPerMs: number
  /** Fewest units worth a chunk of their own. */
  minChunkSize: number
  /** A client's explicit chunk count, which wins over the executor's choice. */
  chunks?: number | undefined
  /** Work of at most this many units, with no chunk count asked for, runs on the event loop. */
  inlineMaxSize?: number
}

/** Any task's declaration, as the route factory and the registry handle it. */

export type AnyTask = TaskDeclaration<any, any, any, any, any, any, any>

/** Checks a declaration's parts against each other; the identity at run time. */
export function defineTask<Q extends z.ZodType | undefined, J extends z.ZodType, In, Chunk, Partial, Merged, Reply extends object> (
  declaration: TaskDeclaration<Q, J, In, Chunk, Partial, Merged, Reply>
): TaskDeclaration<Q, J, In, Chunk, Partial, Merged, Reply> {
  return declaration
}
