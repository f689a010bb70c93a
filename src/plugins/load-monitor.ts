import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { createLoadMonitor, type LoadMonitor } from '../platform/load-monitor.js'

declare module 'fastify' {
  interface FastifyInstance {
    loadMonitor: LoadMonitor
  }
}

async function loadMonitorPlugin (app: FastifyInstance) {
  const monitor = createLoadMonitor(() => app.executor.stats())
  app.decorate('loadMonitor', monitor)
  app.addHook('onClose', async () => monitor.close())
}

export default fp(loadMonitorPlugin, { name: 'load-monitor', dependencies: ['executor'] })
