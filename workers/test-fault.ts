import { threadId } from 'node:worker_threads'

export interface FaultInput {
  kind: 'throw' | 'exit' | 'oom' | 'spin'
  /** For `spin`: how long to keep the CPU busy. */
  ms?: number
}

/**
 * Misbehaves on purpose, so tests can prove that each kind of worker fault fails only its own
 * request and leaves the pool whole. Reachable over HTTP only when ENABLE_TEST_FAULTS is set.
 */
export default function testFaultTask ({ kind, ms = 0 }: FaultInput): { threadId: number } {
  switch (kind) {
    case 'throw':
      throw new Error('test fault: task threw')
    case 'exit':
      // In a worker thread this ends the thread, not the process.
      process.exit(3)
      break
    case 'oom': {
      const hoard: number[][] = []
      for (;;) hoard.push(new Array(1 << 20).fill(hoard.length))
    }
    case 'spin': {
      const until = Date.now() + ms
      while (Date.now() < until) { /* busy: nothing but an abort can stop it early */ }
      break
    }
  }
  return { threadId }
}
