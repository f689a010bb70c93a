import type { FastifyRequest } from 'fastify'
import type { IncomingMessage } from 'node:http'
import { z } from 'zod'
import { BinaryJobTaskError } from '../errors.js'
import { float64BodyParser } from '../uploads/float64-body-parser.js'
import { binaryInputOf, type JobRequest } from './job-document.js'
import type { JobTasks } from './job-tasks.js'

/**
 * Binary job inputs: POST /v1/jobs?task=<name> with application/octet-stream, for every task whose
 * route takes one (sum, dot, stats), in the same layout, read by the same parser into one
 * SharedArrayBuffer. The route's body limit is JOB_MAX_INPUT_BYTES, and the compute scope reserves
 * the body in the upload budget from its Content-Length, as for any compute route.
 */
export const binaryTaskNames = (tasks: JobTasks) => [...tasks.values()].filter((task) => task.binary !== undefined).map((task) => task.name)

/** POST /v1/jobs's query: the task of a binary body (a JSON body names its own). */
export const jobQuery = (tasks: JobTasks) => z.strictObject({
  task: z.enum(binaryTaskNames(tasks)).optional()
    .describe('With an application/octet-stream body: its task, whose route\'s binary layout it has; absent with a JSON body')
})

/** The binary body's OpenAPI entry (the parser has made it a Float64Array by validation time). */
export const binaryJobBody = z.instanceof(Float64Array).meta({
  type: 'string',
  format: 'binary',
  description: 'Raw little-endian float64 values, as the task\'s route takes them: `sum` and `stats` the values, `dot` x then y; up to JOB_MAX_INPUT_BYTES'
})

/** The parser of a binary job body: the layout of the task `?task=` names, else 400 before a byte is read. */
export function binaryJobParser (tasks: JobTasks) {
  const parsers = new Map([...tasks.values()].flatMap((task) => task.binary === undefined ? [] : [[task.name, float64BodyParser(task.binary)]]))
  return function parseBinaryJob (request: FastifyRequest, payload: IncomingMessage, done: (error: Error | null, body?: Float64Array<SharedArrayBuffer>) => void) {
    const task = (request.query as { task?: unknown }).task
    const parse = typeof task === 'string' ? parsers.get(task) : undefined
    if (parse === undefined) {
      payload.resume()
      return done(new BinaryJobTaskError(`an application/octet-stream body needs ?task= naming one of ${[...parsers.keys()].join(', ')}`))
    }
    parse(request, payload, done)
  }
}

/** The job a POST asks for: its JSON body, or a binary body with its task from the query. */
export function jobRequestOf (body: unknown, queryTask: string | undefined): JobRequest {
  if (body instanceof Float64Array) {
    return { task: queryTask!, input: binaryInputOf(body), binary: body as Float64Array<SharedArrayBuffer> }
  }
  if (queryTask !== undefined) throw new BinaryJobTaskError('?task= names the task of a binary body: a JSON body names it in its `task` field')
  return body as JobRequest
}
