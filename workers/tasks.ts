import { kernels } from '../src/tasks/registry.js'
import testFault from './test-fault.js'

/**
 * Every task a worker (or the event loop, for inline work) can run, by name: the registry's kernels
 * (src/tasks/registry.ts), and the fault injector. A task is a synchronous function of one
 * structured-cloneable input.
 */
export const tasks = {
  ...kernels,
  'test-fault': testFault
}
