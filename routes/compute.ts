import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { computeErrorResponse, problemResponse } from '../src/http/error-body.js'
import { BinaryLengthError } from '../src/errors.js'
import type { TaskName } from '../src/executor/executor.js'
import { offload } from '../src/executor/offload.js'
import { float64BodyParser } from '../src/uploads/float64-body-parser.js'
import { camelCase, type ComputeRoute, type ComputeRouteOptions } from '../src/plugins/compute-scope.js'
import { serverTiming } from '../src/http/server-timing.js'
import type { AnyTask, TaskErrors } from '../src/tasks/task.js'

/**
 * The route of a declared task (src/tasks/<name>.ts): `POST /v1/<name>` unless it names its own
 * path, registered in the compute scope, so every guard applies. The route carries its task in its
 * config: admission finds it there, never in the URL.
 */
export function computeRoute (task: AnyTask): ComputeRoute {
  return async function taskRoute (app: FastifyInstance, { config }: ComputeRouteOptions) {
    // A declaration whose name no worker knows fails here, at start-up, not at its first request.
    if (!app.executor.tasks.includes(task.name as TaskName)) throw new Error(`task "${task.name}" has no kernel in the workers' table`)
    const { binary } = task.input
    // Each route is its own plugin, so a binary parser reaches this route alone.
    if (binary !== undefined) app.addContentTypeParser('application/octet-stream', float64BodyParser(binary))
    const json = task.input.json(config)

    app.post(task.path ?? `/v1/${task.name}`, {
      config: { computeTask: task.name as TaskName },
      ...(binary === undefined ? {} : { bodyLimit: config.BODY_LIMIT_BYTES }),
      schema: {
        operationId: task.operationId ?? camelCase(task.name),
        summary: task.summary,
        ...(task.input.query === undefined ? {} : { querystring: task.input.query }),
        body: binary === undefined ? json : { content: { 'application/json': { schema: json }, 'application/octet-stream': { schema: binarySchema(binary.documentation) } } },
        response: { 200: task.result, ...(binary === undefined ? {} : { 400: binaryBadRequest }), ...errorResponses(task.errors) }
      },
      ...(task.serializerCompiler === undefined ? {} : { serializerCompiler: task.serializerCompiler })
    }, async (request, reply) => {
      const input: unknown = task.read({ query: request.query, body: request.body })
      const run = await offload(app.executor, { signal: request.computeSignal, client: request.computeClient, deadline: request.computeDeadline }, {
        task: task.name as TaskName,
        ...task.cost(input, config),
        split: (parts: number) => task.split(input, parts),
        merge: task.merge
      })
      return { ...task.answer(run.value, input), chunks: run.chunks, elapsedMs: serverTiming(request, reply, run) }
    })
  }
}

// The parser has already turned the bytes into a Float64Array; the metadata is what OpenAPI shows.
function binarySchema (description: string) {
  return z.instanceof(Float64Array).meta({ type: 'string', format: 'binary', description })
}

/** The task's own error statuses, in the service's error shape, each with why it is answered and its codes. */
function errorResponses (errors: Record<number, TaskErrors> = {}) {
  return Object.fromEntries(Object.entries(errors).map(([status, { why, codes }]) => [status, problemResponse(why, ...codes)]))
}

/** A route that takes binary bodies also refuses one that is not whole values, besides every compute route's 400s. */
const binaryBadRequest = computeErrorResponse(400, 'a binary body that is not whole values', BinaryLengthError)
