import { afterAll, describe, expect, it } from 'vitest'
import { DocExampleRun, docsWithExamples } from './support/doc-example-runner.js'
import { differences } from './support/doc-examples.js'

// Every console example of the README and docs/, run in order against a real server, its answer held
// to the doc's (test/support/doc-examples.ts says how). `npm run docs:examples -- --write` reprints stale ones.
const docs = docsWithExamples()

describe('the README names one or more examples per endpoint', () => {
  const readme = docs.find(({ doc }) => doc === 'README.md')!.examples
  it.each(['/v1/sum-of-squares', '/v1/sum', '/v1/dot', '/v1/stats', '/v1/jobs', '/probe', '/health/live', '/health/ready', '/metrics', '/version', '/openapi.json'])('%s', (path) => {
    expect(readme.some((example) => example.command.includes(`localhost:3311${path}`))).toBe(true)
  })
})

describe.each(docs)('$doc: its console examples answer as it shows them', ({ examples }) => {
  const run = new DocExampleRun()
  afterAll(() => run.stop())

  for (const example of examples) {
    if (example.notRun !== undefined) {
      it.skip(`${example.command} (not run: ${example.notRun})`, () => {})
      continue
    }
    it(example.command, async () => {
      expect(differences(example, await run.run(example))).toEqual([])
    }, 150_000)
  }
})
