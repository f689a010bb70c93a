import type { FastifyInstance, InjectOptions } from 'fastify'
import { buildTestApp } from '../helper.js'
import { startRedis, type RedisServer } from './redis-server.js'
import { until } from './until.js'

export const JOB_MODES = ['embedded', 'redis'] as const
export type JobAppMode = typeof JOB_MODES[number]

/** A job long enough to stay active for the whole test (thousands of chunks), cancelled when it ends. */
export const LONG_JOB = { task: 'sum-of-squares', input: { start: 0, end: 10_000_000_000_000 } }

/** The app in-process on one back end: embedded, or on a throwaway Redis of its own; requests through app.inject. */
export async function jobApp (mode: JobAppMode, env: Record<string, string> = {}) {
  const redis: RedisServer | undefined = mode === 'redis' ? await startRedis() : undefined
  const app: FastifyInstance = await buildTestApp({ ...env, ...(redis === undefined ? {} : { REDIS_URL: redis.url }) })
  const inject = async (options: InjectOptions) => {
    const response = await app.inject(options)
    return { status: response.statusCode, headers: response.headers, body: response.json() }
  }
  return {
    app,
    redis,
    inject,
    submit: (body: unknown, headers: Record<string, string> = {}) => inject({ method: 'POST', url: '/v1/jobs', headers, payload: body as object }),
    get: (id: string, headers: Record<string, string> = {}) => inject({ method: 'GET', url: `/v1/jobs/${id}`, headers }),
    cancel: (id: string, headers: Record<string, string> = {}) => inject({ method: 'POST', url: `/v1/jobs/${id}/cancel`, headers }),
    remove: (id: string, headers: Record<string, string> = {}) => inject({ method: 'DELETE', url: `/v1/jobs/${id}`, headers }),
    /** Polls GET until the job has finished. */
    finished: (id: string, headers: Record<string, string> = {}) => until(async () => {
      const { body } = await inject({ method: 'GET', url: `/v1/jobs/${id}`, headers })
      return ['queued', 'running'].includes(body.status) ? undefined : body
    }),
    async close () {
      await app.close()
      await redis?.stop()
    }
  }
}

export type JobApp = Awaited<ReturnType<typeof jobApp>>
