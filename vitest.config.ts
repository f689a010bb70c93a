import { configDefaults, defineConfig } from 'vitest/config'

const files = (names: string[]): string[] => names.map((name) => `test/${name}.test.ts`)

// Files that saturate the cores on purpose, or whose assertions hang on when something happens
// (deadlines, drains, trickle rates, latency while loaded): one at a time, last, so that one file's
// load is never another's delay.
const timing = files([
  'admission', 'connections', 'deadlines', 'descriptor-exhaustion', 'disconnects', 'event-streams', 'fuzz',
  'hostile-clients', 'jobs-replicas', 'load-shedding', 'responsiveness',
  'shutdown-under-load', 'shutdown', 'sum-upload', 'worker-crashes'
])
// Files that start processes or servers (the service, Redis, podman, promtool, a load run) but assert
// only on states, counts and answers: two at a time, after the in-process files.
const processes = files([
  'access-log', 'alerts', 'client', 'client-package', 'compose', 'container-runtime', 'job-binary', 'job-cancel', 'job-caps', 'job-chunk-reruns',
  'job-failures', 'job-idempotency', 'job-list', 'job-tasks', 'job-wait', 'jobs',
  'kubernetes-manifests', 'load-test-tool', 'metric-names', 'metrics', 'problem-codes', 'queue-board', 'doc-examples', 'redis-failures', 'redis-scripts', 'shared-rate-limit', 'version'
])

const shared = { testTimeout: 60_000, hookTimeout: 30_000 }
// Vitest's default on 2 cores is one worker; these files mostly wait on I/O, so two.
const twoAtATime = { maxWorkers: 2 }

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          ...twoAtATime,
          name: 'in-process',
          include: ['test/**/*.test.ts'],
          // Minutes of load against several processes: `npm run test:replicas` (vitest.replicas.config.ts).
          exclude: [...configDefaults.exclude, 'test/replicas/**', ...timing, ...processes],
          sequence: { groupOrder: 0 }
        }
      },
      { test: { ...shared, ...twoAtATime, name: 'processes', include: processes, sequence: { groupOrder: 1 } } },
      { test: { ...shared, name: 'timing', include: timing, fileParallelism: false, sequence: { groupOrder: 2 } } }
    ]
  }
})
