import { Counter, Histogram, type Registry } from 'prom-client'
import { ABORT_REASONS, REJECT_REASONS, type ExecutorEvent, type TaskName } from '../executor/executor.js'
// Chunks are sized to take milliseconds; a single unsplit task can take many seconds.
const TASK_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/**
 * Counters and histograms fed by executor events. Returns the listener to subscribe with
 * `executor.on`. Every series a dashboard divides by starts at 0, so a rate exists before the
 * first failure rather than appearing with it.
 */
export function createExecutorMetrics (registry: Registry, tasks: readonly TaskName[]) {
  const registers = [registry]
  const completed = new Counter({ name: 'compute_pool_tasks_completed_total', help: 'Tasks that returned a result', labelNames: ['task'] as const, registers })
  const failed = new Counter({ name: 'compute_pool_tasks_failed_total', help: 'Tasks that threw', labelNames: ['task'] as const, registers })
  const aborted = new Counter({
    name: 'compute_pool_tasks_aborted_total',
    help: `Tasks aborted before they finished, by reason (${ABORT_REASONS.join(', ')})`,
    labelNames: ['task', 'reason'] as const,
    registers
  })
  const rejected = new Counter({
    name: 'compute_pool_tasks_rejected_total',
    help: `Tasks refused before they were queued, by reason (${REJECT_REASONS.join(', ')}): the queue was full, the client held its share of it while others waited, or the work could not finish before its deadline`,
    labelNames: ['task', 'reason'] as const,
    registers
  })
  const replaced = new Counter({ name: 'compute_pool_threads_replaced_total', help: 'Worker threads that died or were terminated and were replaced', registers })
  const leftRunning = new Counter({
    name: 'compute_pool_aborts_left_running_total',
    help: 'Running tasks aborted but left to finish, because that was cheaper than replacing their thread',
    labelNames: ['task'] as const,
    registers
  })
  const runTime = new Histogram({
    name: 'compute_pool_task_run_seconds',
    help: 'Time completed tasks spent in the task function itself, on the worker thread',
    labelNames: ['task'] as const,
    buckets: TASK_BUCKETS,
    registers
  })
  const waitTime = new Histogram({
    name: 'compute_pool_task_wait_seconds',
    help: 'Time completed tasks spent outside the task function: queueing and hand-off to and from the worker',
    labelNames: ['task'] as const,
    buckets: TASK_BUCKETS,
    registers
  })

  for (const task of tasks) {
    completed.inc({ task }, 0)
    failed.inc({ task }, 0)
    for (const reason of REJECT_REASONS) rejected.inc({ task, reason }, 0)
    leftRunning.inc({ task }, 0)
    for (const reason of ABORT_REASONS) aborted.inc({ task, reason }, 0)
  }

  return (event: ExecutorEvent): void => {
    switch (event.type) {
      case 'task-settled':
        if (event.status === 'completed') {
          completed.inc({ task: event.task })
          const kernelMs = event.kernelMs ?? 0
          runTime.observe({ task: event.task }, kernelMs / 1000)
          waitTime.observe({ task: event.task }, Math.max(0, event.totalMs - kernelMs) / 1000)
        } else if (event.status === 'failed') {
          failed.inc({ task: event.task })
        } else {
          aborted.inc({ task: event.task, reason: event.abortReason ?? 'unknown' })
        }
        break
      case 'task-rejected':
        rejected.inc({ task: event.task, reason: event.reason })
        break
      case 'thread-replaced':
        replaced.inc()
        break
      case 'abort-left-running':
        leftRunning.inc({ task: event.task })
        break
    }
  }
}
