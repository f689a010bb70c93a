import dot from './dot.js'
import sumOfSquares from './sum-of-squares.js'
import sum from './sum.js'
import testFault from './test-fault.js'

/**
 * Every task a worker (or the event loop, for inline work) can run, by name: the name of its route
 * and its module. A task is a synchronous function of one structured-cloneable input.
 */
export const tasks = {
  'sum-of-squares': sumOfSquares,
  sum,
  dot,
  'test-fault': testFault
}
