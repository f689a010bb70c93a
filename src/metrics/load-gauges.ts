import { Gauge, type Registry } from 'prom-client'
import type { ExecutorStats } from '../executor/executor.js'
import type { LoadSnapshot } from '../platform/load-monitor.js'
import type { JsonParseQueueStats } from '../uploads/json-parse-queue.js'
import type { UploadBudgetStats } from '../uploads/upload-budget.js'

export interface LoadSources {
  stats: () => ExecutorStats
  load: () => LoadSnapshot
  uploads?: () => UploadBudgetStats
  jsonParses?: () => JsonParseQueueStats
  ready: () => boolean
}

/** Gauges read at scrape time from the executor's stats and the load monitor (the figures /probe shows). */
export function registerLoadGauges (registry: Registry, { stats, load, uploads, jsonParses, ready }: LoadSources): void {
  const gauge = (name: string, help: string, read: () => number) => new Gauge({
    name,
    help,
    registers: [registry],
    collect () { this.set(read()) }
  })
  gauge('compute_health_ready', '1 while GET /health/ready answers 200 (not draining, at least one worker thread), else 0',
    () => ready() ? 1 : 0)
  gauge('compute_pool_threads', 'Worker threads in the pool (0 with the inline executor)', () => stats().threads)
  gauge('compute_pool_queued_tasks', 'Tasks waiting for a free worker thread', () => stats().queued)
  gauge('compute_pool_running_tasks', 'Tasks running on a worker thread', () => stats().running)
  gauge('compute_pool_queued_seconds', 'Estimated work waiting for a thread, in seconds of one thread', () => stats().queuedMs / 1000)
  gauge('compute_pool_waiting_clients', 'Clients (API keys or addresses) with work waiting for a thread', () => stats().waitingClients)
  if (uploads !== undefined) {
    gauge('compute_upload_memory_reserved_bytes', 'Memory reserved for request bodies in flight (JSON at its parsing cost)', () => uploads().reservedBytes)
    gauge('compute_upload_memory_max_bytes', 'UPLOAD_MEMORY_MAX_BYTES: past it, uploads get 503', () => uploads().maxBytes)
    gauge('compute_uploads_in_flight', 'Requests holding upload memory', () => uploads().inFlight)
    gauge('compute_upload_clients', 'Clients (API keys or addresses) holding upload memory', () => uploads().clients)
  }
  if (jsonParses !== undefined) {
    gauge('compute_json_parse_queued_bytes', 'Characters of JSON bodies waiting for their turn to be parsed', () => jsonParses().queuedBytes)
  }
  gauge('compute_pool_utilization_ratio', 'Mean share of the last few seconds the worker threads spent in task kernels, 0..1',
    () => load().poolUtilization)
  gauge('compute_eventloop_delay_window_p99_seconds', 'p99 event-loop delay over the last few seconds, net of the 10 ms sampling interval',
    () => load().eventLoop.delayMs.p99 / 1000)
  gauge('compute_eventloop_utilization_window_ratio', 'Share of the last few seconds the event loop was busy, 0..1',
    () => load().eventLoop.utilization)
}
