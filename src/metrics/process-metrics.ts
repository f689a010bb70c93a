import { collectDefaultMetrics, Registry } from 'prom-client'

let registry: Registry | undefined

/**
 * prom-client's default metrics (CPU, memory, GC, handles, event-loop lag) describe the process,
 * not one app, and collecting them starts observers that are never stopped: so they are collected
 * once per process, in a registry of their own rather than the global one, and every app built in
 * the process (tests build many) merges it into what it serves.
 */
export function processMetrics (): Registry {
  if (registry === undefined) {
    registry = new Registry()
    collectDefaultMetrics({ register: registry })
  }
  return registry
}
