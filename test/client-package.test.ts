import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectPath } from '../src/platform/paths.js'
import { startServer, type ServerProcess } from './support/server-process.js'

const run = promisify(execFile)
const tsc = projectPath('node_modules/typescript/bin/tsc')

/** The first block of `language` in a Markdown text. */
function block (markdown: string, language: string): string {
  const found = new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'm').exec(markdown)
  if (found === null) throw new Error(`no ${language} block`)
  return found[1]!
}

describe('the client package: packed, installed into an empty project, type-checked and run', () => {
  let server: ServerProcess
  let dir: string

  beforeAll(async () => {
    server = await startServer({ POOL_THREADS: '2', LOG_LEVEL: 'warn' })
    dir = await mkdtemp(join(tmpdir(), 'client-package-'))
  })
  afterAll(async () => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('has the service\'s version', async () => {
    const version = async (path: string) => (JSON.parse(await readFile(projectPath(path), 'utf8')) as { version: string }).version
    expect(await version('client/package.json')).toBe(await version('package.json'))
  })

  it('runs the script of client/README.md and prints what the README shows', async () => {
    await run(process.execPath, [tsc, '-p', projectPath('client/tsconfig.json')])
    const { stdout: packed } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: projectPath('client') })
    const { filename } = (JSON.parse(packed) as Array<{ filename: string }>)[0]!
    const app = join(dir, 'app')
    await run('mkdir', [app])
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'client-smoke', private: true, type: 'module', dependencies: { 'compute-service-client': `file:${join(dir, filename)}` } }))
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, timeout: 180_000 })

    const readme = await readFile(projectPath('client/README.md'), 'utf8')
    await writeFile(join(app, 'example.ts'), block(readme, 'ts'))
    await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        outDir: 'out',
        // The project has no @types/node of its own: the script reads process.env.
        typeRoots: [projectPath('node_modules/@types')],
        types: ['node']
      },
      include: ['example.ts']
    }))
    await run(process.execPath, [tsc, '-p', app])
    const { stdout } = await run(process.execPath, [join(app, 'out/example.js')], { env: { ...process.env, COMPUTE_URL: server.url }, timeout: 60_000 })
    expect(stdout).toBe(block(readme, 'text'))
  }, 240_000)
})
