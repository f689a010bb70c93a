import { setPriority } from 'node:os'
import { workerData } from 'node:worker_threads'

export { default } from './run-task.js'

/** What the pool executor hands every worker thread at start-up (Piscina's `workerData`). */
export interface PoolWorkerData {
  /** Nice value for this thread, 0 (unchanged) to 19 (lowest priority). */
  nice: number
}

/**
 * The entry point of every pool thread: the task runner, after lowering this thread's CPU priority.
 * On Linux the nice value belongs to each thread, so the event-loop thread keeps its own and wins a
 * core the moment it has something to do (a probe, a new request, a finished task to answer),
 * instead of waiting for a worker's time slice to end. With idle cores, nice changes nothing.
 * Elsewhere setpriority() would renice the whole process, event loop included, so it is left alone.
 */
const { nice = 0 } = (workerData ?? {}) as Partial<PoolWorkerData>
if (nice > 0 && process.platform === 'linux') setPriority(nice)
