import runTask from '../../workers/run-task.js'
import { tasks } from '../../workers/tasks.js'

/** The workers' task table, as the composition point hands it to an executor; for tests and benchmarks that build one directly. */
export const taskTable = { names: Object.keys(tasks), run: runTask }
