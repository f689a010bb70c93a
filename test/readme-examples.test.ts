import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectPath } from '../src/platform/paths.js'
import { differences, examplesOf, type Example } from './support/readme-examples.js'
import { startServer, type ServerProcess } from './support/server-process.js'

const run = promisify(execFile)
const README_ORIGIN = 'localhost:3311'
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g

const examples = examplesOf(readFileSync(projectPath('README.md'), 'utf8'))

describe('the README\'s examples answer as the README shows them', () => {
  let server: ServerProcess
  // Where the commands run: a file one writes (values for a binary upload) is there for the next.
  const cwd = mkdtempSync(join(tmpdir(), 'readme-examples-'))
  // The README's job ids, and the ids the same requests got here: later commands name the job.
  const ids = new Map<string, string>()

  // As the README says its outputs were made: two worker threads, no Redis.
  beforeAll(async () => { server = await startServer({ POOL_THREADS: '2', LOG_LEVEL: 'warn' }) })
  afterAll(async () => {
    await server?.stop()
    rmSync(cwd, { recursive: true, force: true })
  })

  it('finds the examples: one or more per endpoint', () => {
    for (const path of ['/v1/sum-of-squares', '/v1/sum', '/v1/dot', '/v1/stats', '/v1/jobs', '/probe', '/health/live', '/health/ready', '/metrics', '/version', '/openapi.json']) {
      expect(examples.some((example) => example.command.includes(`${README_ORIGIN}${path}`)), path).toBe(true)
    }
  })

  it.each(examples.map((example) => [example.command, example] as const))('%s', async (_command, example: Example) => {
    const command = example.command
      .replaceAll(README_ORIGIN, new URL(server.url).host)
      .replace(UUID, (id) => ids.get(id) ?? id)
    const { stdout } = await run('sh', ['-c', command], { cwd, timeout: 120_000 })
    const actual = stdout.split('\n').filter((line) => line !== '')
    expect(differences(example, actual)).toEqual([])
    example.output.forEach((line, index) => {
      const readmeIds = line.match(UUID) ?? []
      const actualIds = actual[index]?.match(UUID) ?? []
      readmeIds.forEach((id, k) => { if (actualIds[k] !== undefined) ids.set(id, actualIds[k]) })
    })
  }, 150_000)
})
