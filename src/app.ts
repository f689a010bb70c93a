import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import healthRoutes from '../routes/health.js'
import probeRoutes from '../routes/probe.js'
import sumOfSquaresRoutes from '../routes/sum-of-squares.js'
import testFaultRoutes from '../routes/test-faults.js'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import errorHandler from './plugins/error-handler.js'
import executor from './plugins/executor.js'
import lifecycle from './plugins/lifecycle.js'
import loadMonitor from './plugins/load-monitor.js'
import { requestId } from './request-id.js'

export interface AppOptions {
  logger?: FastifyServerOptions['logger']
}

/** Builds the whole service from a config object; listening and signals belong to server.ts. */
export async function buildApp (config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.LOG_LEVEL, false),
    genReqId: requestId,
    // The lifecycle plugin answers during shutdown itself, in the service's error shape.
    return503OnClosing: false
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id)
  })

  await app.register(errorHandler)
  await app.register(lifecycle)
  await app.register(executor, { config })
  await app.register(loadMonitor)

  await app.register(healthRoutes)
  await app.register(probeRoutes)
  await app.register(sumOfSquaresRoutes, { maxTerms: config.MAX_TERMS, threads: config.POOL_THREADS, inlineMaxTerms: config.INLINE_MAX_TERMS })
  if (config.ENABLE_TEST_FAULTS) await app.register(testFaultRoutes)

  return app
}
