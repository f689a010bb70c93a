import { EventSourceParserStream } from 'eventsource-parser/stream'
import type { operations } from './schema.js'
import type { ComputeServiceClient } from './index.js'

/** A job as `GET /v1/jobs/{id}` answers it. */
export type JobDocument = operations['getJob']['responses'][200]['content']['application/json']

/** One event of a job's stream: `progress` while it runs, `done` once with the finished document. */
export interface JobEvent {
  event: string
  job: JobDocument
}

const FINISHED = new Set(['succeeded', 'failed', 'cancelled'])

/** A job route's error answer, thrown by the helpers below (which have no `error` to hand back). */
export class JobRequestError extends Error {
  constructor (readonly status: number, readonly body: unknown) {
    super(`job request answered ${status}: ${JSON.stringify(body)}`)
    this.name = 'JobRequestError'
  }
}

/**
 * A job's event stream (`GET /v1/jobs/{id}/events`) as an async iterator, parsed by eventsource-parser.
 * It ends after `done`, or without it when the serving replica shuts down: `waitForJob` then reconnects.
 */
export async function * followJob (client: ComputeServiceClient, id: string, { signal }: { signal?: AbortSignal } = {}): AsyncGenerator<JobEvent> {
  const { data, error, response } = await client.GET('/v1/jobs/{id}/events', { params: { path: { id } }, parseAs: 'stream', signal })
  if (error !== undefined || data === undefined || data === null) throw new JobRequestError(response.status, error)
  const messages = (data as ReadableStream<Uint8Array>).pipeThrough(new TextDecoderStream() as unknown as TransformStream<Uint8Array, string>).pipeThrough(new EventSourceParserStream())
  for await (const message of messages as unknown as AsyncIterable<{ event?: string, data: string }>) {
    const event = { event: message.event ?? 'message', job: JSON.parse(message.data) as JobDocument }
    yield event
    if (event.event === 'done') return
  }
}

/** The job once it has finished (succeeded, failed or cancelled), following its stream and reconnecting if a replica goes away. */
export async function waitForJob (client: ComputeServiceClient, id: string, { signal }: { signal?: AbortSignal } = {}): Promise<JobDocument> {
  for (;;) {
    for await (const { event, job } of followJob(client, id, { signal })) {
      if (event === 'done') return job
    }
    signal?.throwIfAborted()
    const { data, error, response } = await client.GET('/v1/jobs/{id}', { params: { path: { id } }, signal })
    if (error !== undefined || data === undefined) throw new JobRequestError(response.status, error)
    if (FINISHED.has(data.status)) return data
  }
}
