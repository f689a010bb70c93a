import { setTimeout as sleep } from 'node:timers/promises'
import { Gauge, type Registry } from 'prom-client'
import type { Queue } from 'bullmq'

/** The longest a scrape waits on Redis for the chunk counts; past it they are left out of that scrape. */
export const CHUNK_COUNTS_TIMEOUT_MS = 1000

type Counts = Record<'waiting' | 'prioritized' | 'delayed' | 'active', number>

/**
 * `compute_job_chunks_waiting` and `compute_job_chunks_running`: the chunk queue's own counts, read at
 * scrape time with one getJobCounts (a Lua script of four LLEN/ZCARD), so an autoscaler sees the
 * queue as it is now. Every replica reads the same queue: the value is identical on all of them
 * (query with max(), not sum()). A read that fails or takes longer than `timeoutMs` leaves both out
 * of the scrape rather than showing a stale count to scale on.
 */
export function registerChunkQueueGauges (registry: Registry, queue: Pick<Queue, 'name' | 'getJobCounts'>, timeoutMs = CHUNK_COUNTS_TIMEOUT_MS): void {
  // One read per scrape: both gauges' collect() run in the same tick (Registry.metrics's Promise.all).
  let reading: Promise<Counts | undefined> | undefined
  const read = () => {
    reading ??= Promise.race([
      queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active') as Promise<Counts>,
      sleep(timeoutMs, undefined, { ref: false })
    ]).catch(() => undefined).finally(() => { reading = undefined })
    return reading
  }
  const gauge = (name: string, help: string, value: (counts: Counts) => number) => new Gauge({
    name,
    help,
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect () {
      const counts = await read()
      this.reset()
      if (counts !== undefined) this.set({ queue: queue.name }, value(counts))
    }
  })
  // Prioritized: every chunk is added with a priority, so BullMQ keeps them in a sorted set, not the wait list.
  gauge('compute_job_chunks_waiting', 'Job chunks in the queue that no replica has taken yet (the queue\'s, identical on every replica: take the max), read at scrape time', (counts) => counts.waiting + counts.prioritized + counts.delayed)
  gauge('compute_job_chunks_running', 'Job chunks some replica is running (the queue\'s, identical on every replica: take the max), read at scrape time', (counts) => counts.active)
}
