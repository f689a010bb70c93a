import { abortError } from './abort-reasons.js'
import { createExecutor, type ExecutorOptions } from './create-executor.js'
import type { Executor } from './executor.js'

/**
 * Runs tasks on the event loop, blocking it for as long as each one takes. It exists only to
 * show, side by side with the pool, what blocking costs; it is never the default. Nothing ever
 * waits in a queue, so nothing is refused.
 */
export function createInlineExecutor ({ threads, tasks }: Pick<ExecutorOptions, 'threads' | 'tasks'>): Executor {
  return createExecutor({
    kind: 'inline',
    async run (message, { signal, onStart }) {
      if (signal?.aborted === true) throw abortError(signal.reason)
      onStart?.()
      return tasks.run(message)
    },
    threads: () => 0,
    freeThreads: () => 0,
    running: () => 0,
    queued: () => 0,
    queuedMs: () => 0,
    waitingClients: () => 0,
    close: async () => {}
  }, { maxQueueMs: null, threads, tasks })
}
