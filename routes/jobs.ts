import sse, { type fastifySSE } from '@fastify/sse'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { computeErrorResponse, problemResponse } from '../src/http/error-body.js'
import { JobSlotEstimate } from '../src/http/job-slot-estimate.js'
import { signedZeroJson, signedZeroSerializer } from '../src/http/signed-zero-json.js'
import {
  BinaryJobTaskError, ClientEventStreamsError, IdempotencyKeyInUseError, IdempotencyKeyReusedError, InvalidIdempotencyKeyError, InvalidPageTokenError,
  JobActiveError, JobNotFoundError, JobsUnavailableError, JobStoreFullError, JobStoreSlowError, JsonParseQueueFullError, JsonParseShareFullError,
  NotAcceptableError, OverloadedError, RateLimitedError, ShuttingDownError, TooManyClientJobsError, TooManyEventStreamsError, TooManyJobsError,
  UploadMemoryFullError, UploadShareFullError, withRetryAfter
} from '../src/errors.js'
import { EventStreamSlots } from '../src/jobs/event-stream-slots.js'
import { jobDocument as jobDocumentOf } from '../src/jobs/job-document.js'
import { JobFeeds } from '../src/jobs/job-feeds.js'
import { MAX_WAIT_S, pollAfterS, waitForJob } from '../src/jobs/job-wait.js'
import { cursorOf, pageToken } from '../src/jobs/job-pages.js'
import { idempotencyKeyOf, jobFingerprint, submitOnce } from '../src/jobs/idempotent-submit.js'
import { jobList, jobListQuery } from '../src/jobs/job-list-schema.js'
import { binaryJobBody, binaryJobParser, jobQuery, jobRequestOf } from '../src/jobs/job-binary-input.js'
import type { JobCaller } from '../src/jobs/jobs.js'
import { apiKeyDigest, clientOf } from '../src/clients/client-identity.js'
import type { ComputeRouteOptions } from '../src/plugins/compute-scope.js'
import type { JobTasks } from '../src/jobs/job-tasks.js'
import { JOBS_TAG } from '../src/http/openapi-conventions.js'

type JobKind = z.ZodObject<{ task: z.ZodLiteral<string>, input: z.ZodType }>

/** A job of any declared task: its name, and its input as its job schema checks it (src/jobs/job-tasks.ts). */
export const jobBody = (tasks: JobTasks) => z.discriminatedUnion('task', [...tasks.values()].map((task) => z.strictObject({
  task: z.literal(task.name).describe('The task, as the synchronous route of the same name runs it'),
  input: task.input.describe('The task\'s input, checked as the synchronous route checks it (up to JOB_MAX_TERMS terms)')
})) as unknown as [JobKind, ...JobKind[]]).meta({ examples: [{ task: 'sum-of-squares', input: { start: 0, end: 1_000_000_000_000 } }, { task: 'stats', input: { values: [2.5, 3.25, 5.5, 11.25] } }] })

// Loose: a validated headers object replaces request.headers, which must keep Authorization.
const idempotencyHeader = z.looseObject({
  'idempotency-key': z.string().optional().describe('A key of the client\'s own (IETF Idempotency-Key draft), e.g. `"8e03978e-40d5-43e8-bc93-6894a57f9324"`: ' +
    'the same key with the same request, within JOB_TTL_S, answers the same job; with another request, 422. Scoped to the API key (or address)')
})

const jobNotFound = problemResponse('No such job for this API key: unknown, expired or deleted', JobNotFoundError)
/** What a job route that reads or writes the job store may answer 503 with (JsonParse* and Upload* only where there is a body). */
const storeUnavailable = [ShuttingDownError, OverloadedError, JobsUnavailableError, JobStoreSlowError] as const
const jobStore503 = problemResponse('Shutting down (no Retry-After: retry on another instance), overloaded, or the job store (Redis) unreachable or slow; `Retry-After` says when to retry',
  ...storeUnavailable, JobStoreFullError)

const jobId = z.strictObject({ id: z.uuid().describe('The id POST /v1/jobs answered with') })

const eventStream = z.string().meta({
  examples: [
    'event: progress\ndata: {"id":"0b5e3c1e-5a8f-4f7c-9a51-4e1e29f5c6a2","status":"running","progress":{"done":250000000000,"total":1000000000000,"fraction":0.25},...}\n\n' +
    ': heartbeat\n\n' +
    'event: done\ndata: {"id":"0b5e3c1e-5a8f-4f7c-9a51-4e1e29f5c6a2","status":"succeeded","result":"333333332833333333500000000000",...}\n\n'
  ]
})

/** A stream that lives as long as the job: heartbeats keep proxies from closing it while nothing changes. */
const HEARTBEAT_MS = 15_000
/** A refused stream's Retry-After: streams last as long as their jobs, so a slot frees up in seconds at best. */
const STREAM_RETRY_AFTER_S = 5

export default async function jobsRoutes (app: FastifyInstance, { config }: ComputeRouteOptions) {
  // The package's default export is the plugin wrapped in fastify-plugin (so its route hook reaches
  // these routes); its types describe the module namespace instead.
  await app.register(sse as unknown as typeof fastifySSE, { heartbeatInterval: HEARTBEAT_MS, serializer: signedZeroJson })
  // A job's input and result keep a client's -0 (stats' min, say), as the task's own route does.
  app.setSerializerCompiler(signedZeroSerializer)
  const caller = (request: FastifyRequest): JobCaller => ({
    owner: config.API_KEYS === undefined ? undefined : apiKeyDigest(request.headers.authorization),
    client: clientOf(request, config.API_KEYS !== undefined),
    requestId: String(request.id)
  })
  // Each route module is its own plugin: this parser reaches the job routes alone.
  app.addContentTypeParser('application/octet-stream', binaryJobParser(app.jobs.tasks))
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const feeds = new JobFeeds(app.jobs)
  const slots = new EventStreamSlots(config.EVENT_STREAMS_MAX, config.EVENT_STREAMS_MAX_PER_CLIENT)
  const jobSlots = new JobSlotEstimate(app.jobs)
  app.addHook('onClose', async () => { jobSlots.stop() })
  const jobDocument = jobDocumentOf(app.jobs.tasks).meta({
    examples: [{
      id: '0b5e3c1e-5a8f-4f7c-9a51-4e1e29f5c6a2',
      task: 'sum-of-squares',
      input: { start: 0, end: 1_000_000_000_000 },
      status: 'running',
      progress: { done: 250_000_000_000, total: 1_000_000_000_000, fraction: 0.25 },
      createdAt: '2026-11-27T18:00:00.000Z',
      startedAt: '2026-11-27T18:00:00.012Z',
      elapsedMs: 125_310.5
    }]
  })

  routes.post('/v1/jobs', {
    bodyLimit: config.JOB_MAX_INPUT_BYTES,
    schema: {
      operationId: 'createJob',
      tags: [JOBS_TAG],
      summary: 'Start a job: a computation too long for one request',
      description: 'Answers at once with the job document and its URL in `Location`; GET it, or follow its events, until it has finished. ' +
        'Tasks whose route takes binary input (sum, dot, stats) take it here too: `?task=<name>` with an application/octet-stream body, up to JOB_MAX_INPUT_BYTES. ' +
        'With `Idempotency-Key`, a retry of the same request within JOB_TTL_S answers the same job (202, same `Location`, its current document) instead of making another.',
      headers: idempotencyHeader,
      querystring: jobQuery(app.jobs.tasks),
      body: { content: { 'application/json': { schema: jobBody(app.jobs.tasks) }, 'application/octet-stream': { schema: binaryJobBody } } },
      response: {
        202: jobDocument.describe('Accepted: the job is queued (or, for a retry with the same Idempotency-Key, the job that request made)'),
        400: computeErrorResponse(400, 'a malformed Idempotency-Key; a binary body without `?task=` (or `?task=` with a JSON body)',
          InvalidIdempotencyKeyError, BinaryJobTaskError),
        409: problemResponse('A request with the same Idempotency-Key is still being processed; retry shortly', IdempotencyKeyInUseError),
        422: problemResponse('This Idempotency-Key was used with a different request (another task or input)', IdempotencyKeyReusedError),
        429: problemResponse('This client (its API key, else its address) already has JOBS_MAX_ACTIVE_PER_KEY jobs queued or running, or is over the rate limit, or holds its share of upload memory or of the JSON waiting to be parsed; `Retry-After` says when to retry',
          TooManyClientJobsError, RateLimitedError, UploadShareFullError, JsonParseShareFullError),
        503: problemResponse('Shutting down (no Retry-After: retry on another instance), overloaded, JOBS_MAX_ACTIVE jobs already queued or running, the job store (Redis) unreachable, slow or full, or no room for the body; `Retry-After` says when to retry',
          ...storeUnavailable, TooManyJobsError, JobStoreFullError, UploadMemoryFullError, JsonParseQueueFullError)
      }
    }
  }, async (request, reply) => {
    const job = jobRequestOf(request.body, request.query.task)
    const key = idempotencyKeyOf(request.headers['idempotency-key'])
    const idempotency = key === undefined ? undefined : { key, fingerprint: jobFingerprint(job) }
    const limits = { pendingMs: config.REQUEST_TIMEOUT_MS, ttlS: config.JOB_TTL_S }
    // A binary input outlives the answer in an embedded job: its upload reservation goes with it, and the back end returns it.
    if (job.binary !== undefined) job.held = request.keepUploadReservation()
    const { document, replayed } = await submitOnce(app.jobs, job, caller(request), idempotency, limits).catch((error: unknown) => {
      job.held?.release()
      // Every slot is taken: one frees when a job ends. (A client past its own share gets the default second.)
      throw error instanceof TooManyJobsError ? withRetryAfter(error, jobSlots.seconds()) : error
    })
    // A retry answered with the first request's job made none.
    if (replayed) job.held?.release()
    return reply.code(202).header('location', `/v1/jobs/${document.id}`).send(document)
  })

  routes.get('/v1/jobs', {
    schema: {
      operationId: 'listJobs',
      tags: [JOBS_TAG],
      summary: 'The caller\'s jobs, newest first, a page at a time',
      description: 'Jobs of the caller\'s API key (without API_KEYS: of its address), active and finished (until JOB_TTL_S after they finish), newest first, ' +
        'without their input (GET each job for it). Pages as in AIP-158: pass `nextPageToken` back as `pageToken`, with the same `status`; the last page has none.',
      querystring: jobListQuery,
      response: {
        200: jobList(jobDocumentOf(app.jobs.tasks)),
        400: computeErrorResponse(400, 'a page token this list did not answer with for the same `status`', InvalidPageTokenError),
        503: jobStore503
      }
    }
  }, async (request) => {
    const { status, pageSize, pageToken: token } = request.query
    const page = await app.jobs.list(caller(request), { status, pageSize, after: cursorOf(token, status) })
    return { jobs: page.jobs, ...(page.next === undefined ? {} : { nextPageToken: pageToken(page.next, status) }) }
  })

  routes.get('/v1/jobs/:id', {
    schema: {
      operationId: 'getJob',
      tags: [JOBS_TAG],
      summary: 'A job\'s document: status, progress, and once finished its result or error',
      description: `With \`?wait=N\` (at most ${MAX_WAIT_S} s), answers as soon as the job has finished, or after N seconds as it is then (AIP-151's WaitOperation). ` +
        'An active job\'s answer carries `Retry-After`: when to ask again, a second while the job is young, longer as it ages (at most 30 s).',
      params: jobId,
      querystring: z.strictObject({ wait: z.coerce.number().int().min(0).max(MAX_WAIT_S).optional().describe('Seconds to wait for the job to finish before answering') }),
      response: { 200: jobDocument, 400: computeErrorResponse(400, 'a `wait` that is not a whole number of seconds up to ' + MAX_WAIT_S), 404: jobNotFound, 503: jobStore503 }
    }
  }, async (request, reply) => {
    const { id } = request.params
    const wait = request.query.wait ?? 0
    const document = wait > 0 ? await waitForJob(feeds, id, caller(request), wait * 1000) : await app.jobs.get(id, caller(request))
    if (document === undefined) throw new JobNotFoundError(id)
    const after = pollAfterS(document)
    if (after !== undefined) reply.header('retry-after', String(after))
    return document
  })

  routes.post('/v1/jobs/:id/cancel', {
    schema: {
      operationId: 'cancelJob',
      tags: [JOBS_TAG],
      summary: 'Cancel a job',
      description: 'An active job is cancelled: its queued chunks are dropped and its running ones aborted on every replica; it stays readable, `cancelled`, for JOB_TTL_S. ' +
        'Idempotent: a job that has finished (cancelled, or otherwise) is answered as it is.',
      params: jobId,
      response: { 200: jobDocument.describe('The job: `cancelled`, or as it had finished'), 404: jobNotFound, 503: jobStore503 }
    }
  }, async (request) => {
    const document = await app.jobs.cancel(request.params.id, caller(request))
    if (document === undefined) throw new JobNotFoundError(request.params.id)
    return document
  })

  routes.delete('/v1/jobs/:id', {
    schema: {
      operationId: 'deleteJob',
      tags: [JOBS_TAG],
      summary: 'Delete a finished job',
      description: 'Removes a finished job (404 from then on). An active job is left running and answered 409: cancel it first (POST /v1/jobs/{id}/cancel).',
      params: jobId,
      response: {
        200: jobDocument.describe('The job as it was when removed'),
        404: jobNotFound,
        409: problemResponse('The job is queued or running: cancel it first with POST /v1/jobs/{id}/cancel', JobActiveError),
        503: jobStore503
      }
    }
  }, async (request) => {
    const { id } = request.params
    const removal = await app.jobs.remove(id, caller(request))
    if (removal === undefined) throw new JobNotFoundError(id)
    if (removal.outcome === 'active') throw new JobActiveError(id, removal.document.status, id)
    return removal.document
  })

  routes.get('/v1/jobs/:id/events', {
    sse: { kind: 'manual' },
    schema: {
      operationId: 'followJob',
      tags: [JOBS_TAG],
      summary: 'Follow a job: Server-Sent Events until it has finished',
      description: 'A `progress` event (data: the job document) at once, on every status change, and at most every 250 ms while chunks finish; ' +
        `a comment line every ${HEARTBEAT_MS / 1000} s; a final \`done\` event with the finished document, then the stream closes. ` +
        'The stream is not bound by the request deadline. On shutdown the stream ends without `done`: reconnect, to any replica.',
      params: jobId,
      response: {
        200: { description: 'The event stream', content: { 'text/event-stream': { schema: eventStream } } },
        404: jobNotFound,
        406: problemResponse('The Accept header excludes text/event-stream', NotAcceptableError),
        429: problemResponse('This client (its API key, else its address) has EVENT_STREAMS_MAX_PER_CLIENT streams open, or is over the rate limit; `Retry-After` says when to retry', ClientEventStreamsError, RateLimitedError),
        503: problemResponse('Shutting down (no Retry-After: retry on another instance), overloaded, EVENT_STREAMS_MAX streams open, or the job store (Redis) unreachable or slow; `Retry-After` says when to retry',
          ...storeUnavailable, TooManyEventStreamsError)
      }
    }
  }, async (request, reply) => {
    const accept = request.headers.accept
    if (accept !== undefined && !/text\/event-stream|text\/\*|\*\/\*/.test(accept)) throw new NotAcceptableError(accept)
    let release: () => void
    try {
      release = slots.take(request.computeClient)
    } catch (error) {
      // A client refused a stream has no other request to make on this connection: free the socket.
      reply.header('retry-after', String(STREAM_RETRY_AFTER_S)).header('connection', 'close')
      throw error
    }
    // 'close' fires once the response has ended, whichever way: the slot is held exactly as long as the stream.
    reply.raw.once('close', release)
    const found = await feeds.follow(request.params.id, caller(request), {
      send: (event, document) => reply.sse.send({ event, data: document }),
      close: () => reply.sse.close(),
      onClose: (callback) => reply.sse.onClose(callback)
    })
    if (!found) throw new JobNotFoundError(request.params.id)
    // The stream outlives the handler: the feed closes it after `done`, or when the service shuts down.
    reply.sse.keepAlive()
  })
}
