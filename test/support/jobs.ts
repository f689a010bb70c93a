import { setTimeout as sleep } from 'node:timers/promises'
import { startRedis, type RedisServer } from './redis-server.js'
import { readEventStream, type EventStream, type ServerSentEvent } from './sse.js'
import { startServer, type ServerProcess } from './server-process.js'

export type JobMode = 'embedded' | 'redis'

export interface JobDoc {
  id: string
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled'
  progress: { done: number, total: number, fraction: number }
  result?: string
  error?: { statusCode: number, message: string }
  [field: string]: unknown
}

/** Replicas of the service (one in embedded mode), sharing a throwaway Redis in Redis mode. */
export interface Deployment {
  mode: JobMode
  replicas: ServerProcess[]
  redis?: RedisServer
  /** Starts one more replica with the deployment's environment (Redis mode). */
  addReplica(extraEnv?: Record<string, string>): Promise<ServerProcess>
  stop(): Promise<void>
}

export async function deploy (mode: JobMode, replicas: number, env: Record<string, string>): Promise<Deployment> {
  const redis = mode === 'redis' ? await startRedis() : undefined
  const base = { LOG_LEVEL: 'warn', POOL_THREADS: '2', ...env, ...(redis === undefined ? {} : { REDIS_URL: redis.url }) }
  const deployment: Deployment = {
    mode,
    replicas: [],
    redis,
    async addReplica (extraEnv = {}) {
      const server = await startServer({ ...base, ...extraEnv })
      deployment.replicas.push(server)
      return server
    },
    async stop () {
      await Promise.all(deployment.replicas.map((server) => server.stop('SIGKILL')))
      await redis?.stop()
    }
  }
  try {
    await Promise.all(Array.from({ length: replicas }, () => deployment.addReplica()))
  } catch (error) {
    await deployment.stop()
    throw error
  }
  return deployment
}

/** A small HTTP client for the job routes, with one API key. */
export function jobClient (key?: string) {
  const headers: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` }
  const call = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } })
    return { status: response.status, headers: response.headers, body: await response.json() as JobDoc & Record<string, unknown> }
  }
  return {
    submit: (server: ServerProcess, input: { start?: number, end: number }, task = 'sum-of-squares') =>
      call(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ task, input }) }),
    get: (server: ServerProcess, id: string) => call(`${server.url}/v1/jobs/${id}`),
    cancel: (server: ServerProcess, id: string) => call(`${server.url}/v1/jobs/${id}/cancel`, { method: 'POST' }),
    remove: (server: ServerProcess, id: string) => call(`${server.url}/v1/jobs/${id}`, { method: 'DELETE' }),
    events: (server: ServerProcess, id: string, onEvent?: (event: ServerSentEvent) => void, extraHeaders: Record<string, string> = {}): Promise<EventStream & { status: number }> =>
      fetch(`${server.url}/v1/jobs/${id}/events`, { headers: { ...headers, ...extraHeaders, accept: 'text/event-stream' } }).then(async (response) =>
        response.status === 200
          ? { status: 200, ...(await readEventStream(response, onEvent)) }
          : { status: response.status, events: [{ event: 'error', data: await response.text() }], comments: [] }),
    /** Polls GET until the job has finished (or `timeoutMs` passes). */
    async finished (server: ServerProcess, id: string, timeoutMs = 30_000): Promise<JobDoc> {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const { body } = await this.get(server, id)
        if (!['queued', 'running'].includes(body.status)) return body
        if (Date.now() > deadline) throw new Error(`job ${id} still ${body.status} after ${timeoutMs} ms: ${JSON.stringify(body)}`)
        await sleep(50)
      }
    }
  }
}

export { until } from './until.js'
