import { performance } from 'node:perf_hooks'
import runTask from '../../workers/run-task.js'
import { createEmitter, isAbortError, type Executor, type ExecutorStats } from './executor.js'

/**
 * Runs tasks on the event loop, blocking it for as long as each one takes. It exists only to
 * show, side by side with the pool, what blocking costs; it is never the default.
 */
export function createInlineExecutor (): Executor {
  const events = createEmitter()
  return {
    kind: 'inline',
    async execute (task, input, options = {}) {
      const submitted = performance.now()
      try {
        options.signal?.throwIfAborted()
        const outcome = runTask({ task, input })
        events.emit({ type: 'task-settled', task, status: 'completed', totalMs: performance.now() - submitted, kernelMs: outcome.kernelMs })
        return outcome as never
      } catch (error) {
        events.emit({ type: 'task-settled', task, status: isAbortError(error) ? 'aborted' : 'failed', totalMs: performance.now() - submitted })
        throw error
      }
    },
    // No threads: inline work shows in the event loop's own utilization and delay, in the probe.
    stats: (): ExecutorStats => ({ kind: 'inline', threads: 0, queued: 0, running: 0, busyMs: 0 }),
    on: events.on,
    close: async () => {}
  }
}
