import sumOfSquares from './sum-of-squares.js'
import sumValues from './sum-values.js'
import testFault from './test-fault.js'

/**
 * Every task a worker (or the inline executor) can run, by name. A task is a synchronous
 * function of one structured-cloneable input; adding one is a module here and a line below.
 */
export const tasks = {
  'sum-of-squares': sumOfSquares,
  'sum-values': sumValues,
  'test-fault': testFault
}

export type Tasks = typeof tasks
export type TaskName = keyof Tasks
export type TaskInput<N extends TaskName> = Parameters<Tasks[N]>[0]
export type TaskValue<N extends TaskName> = ReturnType<Tasks[N]>
