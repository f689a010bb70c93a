import { execFile } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { projectPath } from '../../src/platform/paths.js'
import { examplesOf, pairedLines, UUID, type Example } from './doc-examples.js'
import { startServer, type ServerProcess } from './server-process.js'

const run = promisify(execFile)

/** Any server a doc's command names: each doc says which it was (3311, 3317, 3000), the run has its own. */
const DOC_ORIGIN = /localhost:\d+/g

/** As the docs say their outputs were made unless a block's marker says otherwise: two worker threads, no Redis. */
const DEFAULT_SERVER = { POOL_THREADS: '2', LOG_LEVEL: 'warn' }

/** README.md and every page of docs/ with a console example, each with its examples in order. */
export function docsWithExamples (): Array<{ doc: string, examples: Example[] }> {
  return ['README.md', ...readdirSync(projectPath('docs')).filter((name) => name.endsWith('.md')).sort().map((name) => `docs/${name}`)]
    .map((doc) => ({ doc, examples: examplesOf(readFileSync(projectPath(doc), 'utf8')) }))
    .filter(({ examples }) => examples.length > 0)
}

/**
 * Runs one doc's examples in order, as a reader would: against servers of its own (one per setting a
 * block names, kept for the doc's later blocks with the same settings), in one scratch directory, each
 * command naming the ids that the earlier answers here gave where the doc names the ones it was given.
 */
export class DocExampleRun {
  private readonly servers = new Map<string, Promise<ServerProcess>>()
  // A file one command writes (values for a binary upload) is there for the next. The commands name
  // the checkout's files (`deploy/...`) as from its root.
  private cwd: string | undefined
  /** The doc's ids (jobs, requests), and the ids the same requests got here. */
  readonly ids = new Map<string, string>()

  /** What the example's command prints here, line by line (blank lines dropped, as the parser does). */
  async run (example: Example): Promise<string[]> {
    const { url } = await this.serverFor(example)
    if (this.cwd === undefined) {
      this.cwd = mkdtempSync(join(tmpdir(), 'doc-examples-'))
      symlinkSync(projectPath('deploy'), join(this.cwd, 'deploy'))
    }
    const command = example.command
      .replace(DOC_ORIGIN, new URL(url).host)
      .replace(UUID, (id) => this.ids.get(id) ?? id)
    const { stdout } = await run('sh', ['-c', command], { cwd: this.cwd, timeout: 120_000 })
    // `curl -i` ends header lines with CR.
    const actual = stdout.split(/\r?\n/).filter((line) => line !== '')
    for (const [docLine, actualLine] of pairedLines(example, actual)) {
      const actualIds = actualLine.match(UUID) ?? []
      docLine.match(UUID)?.forEach((id, k) => { if (actualIds[k] !== undefined && !this.ids.has(id)) this.ids.set(id, actualIds[k]) })
    }
    return actual
  }

  async stop (): Promise<void> {
    await Promise.all([...this.servers.values()].map(async (server) => { await (await server.catch(() => undefined))?.stop() }))
    if (this.cwd !== undefined) rmSync(this.cwd, { recursive: true, force: true })
  }

  private serverFor (example: Example): Promise<ServerProcess> {
    const settings = { ...DEFAULT_SERVER, ...example.server }
    const key = JSON.stringify(settings)
    if (!this.servers.has(key)) this.servers.set(key, startServer(settings))
    return this.servers.get(key)!
  }
}
