import { defineConfig } from 'vitest/config'

// npm run test:replicas: three real replicas behind a real HAProxy (and Redis), under load for
// tens of seconds. Kept out of `npm test`, which stays fast; .ci/run runs both.
export default defineConfig({
  test: {
    include: ['test/replicas/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000
  }
})
