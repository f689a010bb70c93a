import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'

/**
 * Makes worker faults reproducible for tests and the soak run. Registered only when
 * ENABLE_TEST_FAULTS is set, so production never exposes it; hidden from the OpenAPI document.
 */
export default async function testFaultRoute (app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/test-fault', {
    schema: {
      hide: true,
      body: z.strictObject({
        kind: z.enum(['throw', 'exit', 'oom', 'spin']),
        ms: z.int().min(0).max(600_000).optional()
      })
    }
  }, async (request) => {
    const { kind, ms } = request.body
    const outcome = await app.executor.execute('test-fault', request.body, {
      signal: request.computeSignal,
      client: request.computeClient,
      // A spin's length is known; any other fault's cost is not, and its abort always replaces the thread.
      ...(kind === 'spin' ? { costMs: ms ?? 0 } : {})
    })
    return outcome.value
  })
}
