import { fileURLToPath } from 'node:url'

/**
 * Path of the compiled pool-thread entry (workers/pool-worker.ts). Worker threads are plain Node contexts outside vitest's
 * TypeScript transform, so they always run the build output: when this module is itself loaded
 * from source (under vitest) it points into dist/, which `npm test` builds first.
 */
export const workerEntry = fileURLToPath(new URL(
  import.meta.url.endsWith('.ts') ? '../../dist/workers/pool-worker.js' : '../../workers/pool-worker.js',
  import.meta.url
))
