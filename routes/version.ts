import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { BuildInfo } from '../src/platform/build-info.js'

export const versionReply = z.object({
  name: z.string(),
  version: z.string().describe('package.json version'),
  commit: z.string().describe('The git commit the code was built from, or "unknown"'),
  node: z.string().describe('Node.js version')
}).describe('What is running').meta({
  examples: [{ name: 'compute-service', version: '0.1.0', commit: '776f9d5831f6e916153451726b27e27ae13b1a2b', node: 'v20.20.2' }]
})

/** Which build an instance runs: the same labels as the `compute_build_info` metric. */
export default async function versionRoute (app: FastifyInstance, { build }: { build: BuildInfo }) {
  app.withTypeProvider<ZodTypeProvider>().get('/version', {
    config: { servedWhileClosing: true },
    schema: { operationId: 'getVersion', tags: ['monitoring'], summary: 'Name, version, git commit and Node.js version of this instance', response: { 200: versionReply } }
  }, async () => build)
}
