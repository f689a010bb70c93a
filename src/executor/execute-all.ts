import { setMaxListeners } from 'node:events'
import type { Executor, TaskInput, TaskName, TaskOutcome, TaskValue } from './executor.js'

/**
 * Runs one task per input in parallel and gathers the outcomes in input order (asyncio.gather).
 * The first failure aborts the siblings still queued or running, so a failed request does not
 * keep threads busy with work nobody will read, and is the error returned.
 */
export async function executeAll<N extends TaskName> (
  executor: Executor,
  task: N,
  inputs: Array<TaskInput<N>>,
  options: { signal?: AbortSignal } = {}
): Promise<Array<TaskOutcome<TaskValue<N>>>> {
  if (inputs.length === 1) return [await executor.execute(task, inputs[0]!, options)]
  const siblings = new AbortController()
  const signal = options.signal === undefined ? siblings.signal : AbortSignal.any([options.signal, siblings.signal])
  // Each task listens on the shared signal: up to 256 listeners is by design, not a leak.
  setMaxListeners(inputs.length + 1, signal)
  try {
    return await Promise.all(inputs.map((input) => executor.execute(task, input, { signal })))
  } catch (error) {
    siblings.abort(error)
    throw error
  }
}
