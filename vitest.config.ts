import { configDefaults, defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Minutes of load against several processes: `npm run test:replicas` (vitest.replicas.config.ts).
    exclude: [...configDefaults.exclude, 'test/replicas/**'],
    // Several files saturate both cores on purpose (pools, spawned servers); running them one at a
    // time keeps one file's load from being measured as another's latency.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 30_000
  }
})
