import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import type { Config } from '../platform/config.js'
import { createRedisJobs } from '../jobs/redis-jobs.js'
import { createEmbeddedJobs } from '../jobs/embedded-jobs.js'
import { jobTasks } from '../jobs/job-tasks.js'
import type { Jobs } from '../jobs/jobs.js'
import type { AnyTask } from '../tasks/task.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobs: Jobs
  }
}

/**
 * The job back end: in this process (embedded) without REDIS_URL, shared by every replica through
 * BullMQ with it. On shutdown it stops taking chunks first (preClose, so event streams end and the
 * listener can close), then finishes or hands back its running chunks before the pool closes.
 */
async function jobsPlugin (app: FastifyInstance, { config, tasks: declared }: { config: Config, tasks: AnyTask[] }) {
  const log = app.log.child({ component: 'jobs' })
  const tasks = jobTasks(declared, config)
  const jobs = config.REDIS_URL === undefined
    ? createEmbeddedJobs({ executor: app.executor, tasks, config, log })
    : await createRedisJobs({ executor: app.executor, tasks, config: { ...config, REDIS_URL: config.REDIS_URL }, log })
  app.decorate('jobs', jobs)
  app.addHook('preClose', async () => { await jobs.stop() })
  // onClose hooks run in reverse order of registration: this one before the executor's closes the pool.
  app.addHook('onClose', async () => { await jobs.close() })
}

export default fp(jobsPlugin, { name: 'jobs', dependencies: ['executor'] })
