import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import type { ExecutorEvent, ExecutorStats } from '../src/executor/executor.js'
import type { LoadSnapshot } from '../src/platform/load-monitor.js'
import { createExecutorMetrics } from '../src/metrics/executor-metrics.js'
import { registerLoadGauges } from '../src/metrics/load-gauges.js'
import { sample } from './helper.js'

// Some events (rejection, abort reasons) cannot yet be caused through the service; these tests
// feed each event to the metrics directly, the way the executor would.
describe('executor events, as metrics', () => {
  const record = () => {
    const registry = new Registry()
    const listener = createExecutorMetrics(registry, ['sum-of-squares', 'sum', 'test-fault'])
    return { emit: (event: ExecutorEvent) => listener(event), read: () => registry.metrics() }
  }
  const task = 'sum-of-squares' as const

  it('counts a completed task and observes its run time and its wait (total less run)', async () => {
    const { emit, read } = record()
    emit({ type: 'task-settled', task, status: 'completed', totalMs: 250, kernelMs: 200 })
    const text = await read()
    expect(sample(text, 'compute_pool_tasks_completed_total', { task })).toBe(1)
    expect(sample(text, 'compute_pool_task_run_seconds_sum', { task })).toBeCloseTo(0.2)
    expect(sample(text, 'compute_pool_task_wait_seconds_sum', { task })).toBeCloseTo(0.05)
    expect(sample(text, 'compute_pool_task_run_seconds_bucket', { task, le: '0.1' })).toBe(0)
    expect(sample(text, 'compute_pool_task_run_seconds_bucket', { task, le: '0.25' })).toBe(1)
  })

  it('counts a failed task as failed only', async () => {
    const { emit, read } = record()
    emit({ type: 'task-settled', task, status: 'failed', totalMs: 3 })
    const text = await read()
    expect(sample(text, 'compute_pool_tasks_failed_total', { task })).toBe(1)
    expect(sample(text, 'compute_pool_tasks_completed_total', { task })).toBe(0)
    expect(sample(text, 'compute_pool_task_run_seconds_count', { task })).toBeUndefined()
  })

  it.each(['deadline', 'disconnect', 'sibling-failed', 'shutdown'] as const)('counts a task aborted by %s under that reason', async (reason) => {
    const { emit, read } = record()
    emit({ type: 'task-settled', task, status: 'aborted', totalMs: 3, abortReason: reason })
    const text = await read()
    expect(sample(text, 'compute_pool_tasks_aborted_total', { task, reason })).toBe(1)
    expect(sample(text, 'compute_pool_tasks_aborted_total', { task, reason: 'unknown' })).toBe(0)
  })

  it('counts an abort without a reason as "unknown"', async () => {
    const { emit, read } = record()
    emit({ type: 'task-settled', task, status: 'aborted', totalMs: 3 })
    expect(sample(await read(), 'compute_pool_tasks_aborted_total', { task, reason: 'unknown' })).toBe(1)
  })

  it('counts a task rejected because the queue was full', async () => {
    const { emit, read } = record()
    emit({ type: 'task-rejected', task, reason: 'queue-full' })
    emit({ type: 'task-rejected', task, reason: 'queue-full' })
    expect(sample(await read(), 'compute_pool_tasks_rejected_total', { task, reason: 'queue-full' })).toBe(2)
  })

  it('counts a replaced thread', async () => {
    const { emit, read } = record()
    emit({ type: 'thread-replaced' })
    expect(sample(await read(), 'compute_pool_threads_replaced_total')).toBe(1)
  })

  it('shows every counter at 0 before its first event, so a rate exists from the start', async () => {
    const text = await record().read()
    expect(sample(text, 'compute_pool_tasks_failed_total', { task })).toBe(0)
    expect(sample(text, 'compute_pool_tasks_aborted_total', { task, reason: 'deadline' })).toBe(0)
    expect(sample(text, 'compute_pool_tasks_rejected_total', { task, reason: 'queue-full' })).toBe(0)
    expect(sample(text, 'compute_pool_threads_replaced_total')).toBe(0)
  })
})

describe('load gauges', () => {
  it('read the executor stats and the load snapshot at scrape time, in seconds and ratios', async () => {
    const registry = new Registry()
    let stats: ExecutorStats = { kind: 'pool', threads: 4, queued: 7, running: 4, queuedMs: 70, waitingClients: 1, maxQueueMs: 4000, saturated: false, busyMs: 0, threadsReplaced: 0 }
    const load: LoadSnapshot = { windowMs: 4000, eventLoop: { delayMs: { p50: 0.1, p99: 12.5, max: 40 }, utilization: 0.25 }, poolUtilization: 0.875 }
    let ready = true
    registerLoadGauges(registry, { stats: () => stats, load: () => load, ready: () => ready })
    const text = await registry.metrics()
    expect(sample(text, 'compute_health_ready')).toBe(1)
    expect(sample(text, 'compute_pool_threads')).toBe(4)
    expect(sample(text, 'compute_pool_queued_tasks')).toBe(7)
    expect(sample(text, 'compute_pool_running_tasks')).toBe(4)
    expect(sample(text, 'compute_pool_utilization_ratio')).toBe(0.875)
    expect(sample(text, 'compute_eventloop_delay_window_p99_seconds')).toBe(0.0125)
    expect(sample(text, 'compute_eventloop_utilization_window_ratio')).toBe(0.25)
    stats = { ...stats, queued: 0 }
    ready = false
    expect(sample(await registry.metrics(), 'compute_pool_queued_tasks')).toBe(0)
    expect(sample(await registry.metrics(), 'compute_health_ready')).toBe(0)
  })
})
