export type FaultKind = 'throw'

/**
 * Misbehaves on purpose, so tests can prove that a failing task fails only its own request.
 * Reachable over HTTP only when ENABLE_TEST_FAULTS is set.
 */
export default function testFaultTask ({ kind }: { kind: FaultKind }): never {
  switch (kind) {
    case 'throw':
      throw new Error('test fault: task threw')
  }
}
