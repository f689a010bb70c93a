import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'

/**
 * Makes worker faults reproducible for tests. Registered only when ENABLE_TEST_FAULTS is set,
 * so production never exposes it.
 */
export default async function testFaultRoutes (app: FastifyInstance) {
  app.withTypeProvider<ZodTypeProvider>().post('/v1/test/fault', {
    // Hidden from the OpenAPI document: it is not part of the service's contract.
    schema: { hide: true, body: z.strictObject({ kind: z.enum(['throw']) }) }
  }, async (request) => {
    await app.executor.execute('test-fault', request.body)
    return { status: 'unreachable' }
  })
}
