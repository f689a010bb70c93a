import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { createPoolExecutor } from '../src/executor/pool-executor.js'
import { taskTable } from './support/task-table.js'

const entryLoaderWorker = fileURLToPath(new URL('./fixtures/entry-loader-worker.mjs', import.meta.url))

// Node 20.19-24 abort the whole process when a thread is terminated while require() loads an ES
// module (an assertion in CreateRequiredModuleFacade or InstantiateSync); Piscina tries require()
// first. A thread that never loads its entry by require() cannot meet that race.
describe('a pool thread', () => {
  it('loads its ES module entry by import(), never by require()', async () => {
    const executor = createPoolExecutor({ threads: 1, maxQueueMs: 10_000, maxOldGenerationMb: 64, tasks: taskTable, filename: entryLoaderWorker })
    try {
      // The fixture ignores the task name; 'test-fault' is only there to satisfy the types.
      const outcome = await executor.execute('test-fault', { kind: 'throw' } as never, {})
      expect(outcome).toMatchObject({ value: 0 })
    } finally {
      await executor.close()
    }
  })
})
