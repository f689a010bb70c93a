import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../platform/config.js'
import type { ExecutorOptions } from '../executor/create-executor.js'
import type { Executor } from '../executor/executor.js'
import { createInlineExecutor } from '../executor/inline-executor.js'
import { createPoolExecutor } from '../executor/pool-executor.js'

declare module 'fastify' {
  interface FastifyInstance {
    executor: Executor
  }
}

export interface ExecutorPluginOptions {
  config: Config
  tasks: ExecutorOptions['tasks']
}

/** Owns the worker pool (or the inline stand-in) and closes it after the last request has finished. */
async function executorPlugin (app: FastifyInstance, { config, tasks }: ExecutorPluginOptions) {
  const executor = config.EXECUTOR === 'pool'
    ? createPoolExecutor({
      threads: config.POOL_THREADS,
      maxQueueMs: config.POOL_MAX_QUEUE_MS,
      maxOldGenerationMb: config.WORKER_MAX_OLD_GENERATION_MB,
      workerNice: config.POOL_WORKER_NICE,
      jobThreads: config.JOB_THREADS,
      tasks
    })
    : createInlineExecutor({ threads: config.POOL_THREADS, tasks })
  app.decorate('executor', executor)
  app.addHook('onClose', async () => {
    await executor.close()
  })
}

export default fp(executorPlugin, { name: 'executor' })
