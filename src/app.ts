import type { SpanProcessor } from '@opentelemetry/sdk-trace-node'
import Fastify, { type FastifyInstance, type FastifyServerOptions, type onRouteHookHandler } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { computeRoute } from '../routes/compute.js'
import healthRoutes from '../routes/health.js'
import jobsRoutes from '../routes/jobs.js'
import probeRoute from '../routes/probe.js'
import versionRoute from '../routes/version.js'
import testFaultRoute from '../routes/test-fault.js'
import runTask from '../workers/run-task.js'
import { tasks } from '../workers/tasks.js'
import type { Config } from './platform/config.js'
import { AccessLog } from './http/access-log.js'
import { buildInfo } from './platform/build-info.js'
import { loggerOptions } from './platform/logger.js'
import computeScope, { type ComputeRoute } from './plugins/compute-scope.js'
import connections from './plugins/connections.js'
import cors from './plugins/cors.js'
import errorHandler, { replyWithError } from './plugins/error-handler.js'
import executor from './plugins/executor.js'
import jobs from './plugins/jobs.js'
import lifecycle from './plugins/lifecycle.js'
import loadMonitor from './plugins/load-monitor.js'
import metrics from './plugins/metrics.js'
import openApi from './plugins/openapi.js'
import uploads from './plugins/uploads.js'
import tracing from './plugins/tracing.js'
import { requestId } from './http/request-id.js'
import { loadTasks } from './tasks/registry.js'
import type { AnyTask } from './tasks/task.js'

// This file is where the app is composed, and the one file of src/ that imports routes/ and
// workers/: it gives the executor the workers' task table, by value and by type.
type Tasks = typeof tasks
declare module './executor/executor.js' {
  interface TaskRegistry extends Tasks {}
}

/** How long after a compute request's own deadline Node's request timeout closes what is left. */
const NODE_TIMEOUT_SLACK_MS = 5000

export interface AppOptions {
  logger?: FastifyServerOptions['logger']
  /** Sees every route as it is registered: tests check that the OpenAPI document covers them all. */
  onRoute?: onRouteHookHandler
  /** Extra compute routes, registered in the compute scope after the service's own (tests). */
  computeRoutes?: ComputeRoute[]
  /** Extra task declarations, routed like the registry's, after them (tests: a task under another path). */
  tasks?: AnyTask[]
  /** Turns tracing on with this span processor instead of the configured exporter (tests: an in-memory one). */
  spanProcessor?: SpanProcessor
}

/** Builds the whole service from a config object; listening and signals belong to server.ts. */
export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.LOG_LEVEL, false),
    genReqId: requestId,
    trustProxy: trustProxy(config.TRUST_PROXY),
    // One access line per request instead of Fastify's two.
    logController: new AccessLog(),
    // The lifecycle plugin answers during shutdown itself, in the service's error shape.
    return503OnClosing: false,
    // Node's own limits, the backstop for every route: the compute scope answers a late body
    // with 408 in the error shape at its deadline; Node closes whatever is still arriving a few
    // seconds later (its own 408), checking every second rather than its default 30.
    requestTimeout: config.REQUEST_TIMEOUT_MS + NODE_TIMEOUT_SLACK_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    http: { headersTimeout: config.HEADERS_TIMEOUT_MS, connectionsCheckingInterval: 1000 },
    // A badly encoded URL or an overlong parameter: answered as a problem too, not Fastify's own shape.
    frameworkErrors: replyWithError
  })
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute)
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  await app.register(errorHandler)
  // Before every route, so that errors and preflights carry its headers too.
  if (config.CORS_ORIGINS !== undefined) await app.register(cors, { origins: config.CORS_ORIGINS })
  await app.register(connections, { config })
  await app.register(lifecycle)
  await app.register(executor, { config, tasks: { names: Object.keys(tasks), run: runTask } })
  const build = buildInfo(config.GIT_COMMIT)
  // Before every route and hook it should see.
  await app.register(tracing, { config, build, ...(options.spanProcessor === undefined ? {} : { spanProcessor: options.spanProcessor }) })
  await app.register(uploads, {
    maxBytes: config.UPLOAD_MEMORY_MAX_BYTES,
    largestBody: config.BODY_LIMIT_BYTES,
    perClientBytes: config.UPLOAD_MEMORY_PER_CLIENT_BYTES,
    jsonParseMaxBytes: config.JSON_PARSE_MAX_BYTES,
    jsonBodyLimit: config.JSON_BODY_LIMIT_BYTES
  })
  // Declared once: each task's route, and its job.
  const declared = [...await loadTasks(), ...(options.tasks ?? [])]
  await app.register(jobs, { config, tasks: declared })
  await app.register(loadMonitor)
  // Before every route: swagger and metrics learn routes from their onRoute hooks.
  await app.register(openApi, { requireApiKey: config.API_KEYS !== undefined, rateLimited: config.RATE_LIMIT_MAX !== undefined })
  await app.register(metrics, { config, build })

  await app.register(healthRoutes)
  await app.register(probeRoute)
  await app.register(versionRoute, { build })
  // Every route that runs CPU work: each gets the compute scope's guards without asking for them.
  await app.register(computeScope, {
    config,
    routes: [
      ...declared.map(computeRoute),
      jobsRoutes,
      ...(config.ENABLE_TEST_FAULTS ? [testFaultRoute] : []),
      ...(options.computeRoutes ?? [])
    ]
  })
  return app
}

/**
 * Fastify's trustProxy for TRUST_PROXY. Fastify 5.12 ignores a plain hop count (it trusts no peer,
 * since the nearest one is not checked); a count here means "the last n hops are proxies", as documented.
 */
function trustProxy (setting: Config['TRUST_PROXY']): FastifyServerOptions['trustProxy'] {
  if (typeof setting !== 'number') return setting
  return setting === 0 ? false : (_address: string, hop: number) => hop < setting
}
