import { setPriority } from 'node:os'
import { workerData } from 'node:worker_threads'

export { default } from './run-task.js'

/**
 * The entry point of every pool thread: the task runner, after lowering this thread's CPU priority,
 * so the event loop wins a core the moment it has something to do. On Linux the nice value is per
 * thread; elsewhere setpriority() would renice the whole process, so it is left alone.
 */
const { nice = 0 } = (workerData ?? {}) as { nice?: number }
if (nice > 0 && process.platform === 'linux') setPriority(nice)
