import Fastify, { type FastifyInstance, type FastifyServerOptions, type onRouteHookHandler } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import healthRoutes from '../routes/health.js'
import probeRoutes from '../routes/probe.js'
import sumOfSquaresRoutes from '../routes/sum-of-squares.js'
import sumRoutes from '../routes/sum.js'
import testFaultRoutes from '../routes/test-faults.js'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import accessControl from './plugins/access-control.js'
import errorHandler from './plugins/error-handler.js'
import computeRequests from './plugins/compute-requests.js'
import executor from './plugins/executor.js'
import lifecycle from './plugins/lifecycle.js'
import loadMonitor from './plugins/load-monitor.js'
import loadShedding from './plugins/load-shedding.js'
import metrics from './plugins/metrics.js'
import openApi from './plugins/openapi.js'
import { requestId } from './request-id.js'

export interface AppOptions {
  logger?: FastifyServerOptions['logger']
  /** Sees every route as it is registered: tests check that the OpenAPI document covers them all. */
  onRoute?: onRouteHookHandler
}

/** Builds the whole service from a config object; listening and signals belong to server.ts. */
export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.LOG_LEVEL, false),
    genReqId: requestId,
    // The lifecycle plugin answers during shutdown itself, in the service's error shape.
    return503OnClosing: false
  })
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute)
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  await app.register(errorHandler)
  await app.register(lifecycle)
  await app.register(executor, { config })
  await app.register(loadMonitor)
  // Before every route: swagger documents, metrics time, and the onRequest guards of compute
  // routes run in this order: API key and rate limit (401, 429), load shedding, then admission
  // and the deadline (503), so a client without a key learns that first.
  await app.register(openApi, { requireApiKey: config.API_KEYS !== undefined })
  await app.register(metrics, { config })
  await app.register(accessControl, { config })
  await app.register(loadShedding, {
    maxEventLoopDelayMs: config.PRESSURE_MAX_EVENT_LOOP_DELAY_MS,
    maxHeapUsedBytes: config.PRESSURE_MAX_HEAP_USED_MB === undefined ? undefined : config.PRESSURE_MAX_HEAP_USED_MB * 2 ** 20
  })
  await app.register(computeRequests, { requestTimeoutMs: config.REQUEST_TIMEOUT_MS })

  await app.register(healthRoutes)
  await app.register(probeRoutes)
  await app.register(sumOfSquaresRoutes, { maxTerms: config.MAX_TERMS, threads: config.POOL_THREADS, inlineMaxTerms: config.INLINE_MAX_TERMS })
  await app.register(sumRoutes, { bodyLimit: config.BODY_LIMIT_BYTES, threads: config.POOL_THREADS })
  if (config.ENABLE_TEST_FAULTS) await app.register(testFaultRoutes)

  return app
}
