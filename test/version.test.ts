import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../src/platform/config.js'
import { projectPath } from '../src/platform/paths.js'
import { startServer } from './support/server-process.js'
import { buildTestApp, sample } from './helper.js'

const packageJson = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { name: string, version: string }
const COMMIT = '0123456789abcdef0123456789abcdef01234567'

/** The commit of this checkout, or undefined outside a git repository. */
function headCommit (): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: projectPath('.'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return undefined
  }
}

describe('GET /version', () => {
  it('answers name and version from package.json, the commit from GIT_COMMIT, and the Node.js version', async () => {
    const app = await buildTestApp({ GIT_COMMIT: COMMIT })
    const response = await app.inject({ method: 'GET', url: '/version' })
    await app.close()
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ name: packageJson.name, version: packageJson.version, commit: COMMIT, node: process.version })
  })

  it('without GIT_COMMIT, reports the commit `npm run build` recorded (real process, built code)', async () => {
    const server = await startServer({ LOG_LEVEL: 'warn', GIT_COMMIT: '' })
    try {
      const version = await (await fetch(`${server.url}/version`)).json() as { commit: string }
      expect(version.commit).toBe(headCommit() ?? 'unknown')
    } finally {
      await server.stop()
    }
  })

  it('refuses a GIT_COMMIT that is not a commit hash', () => {
    expect(() => loadConfig({ GIT_COMMIT: 'main; rm -rf /' })).toThrow(/GIT_COMMIT=.*expected a git commit hash/)
  })
})

describe('compute_build_info', () => {
  it('is 1, with the same labels as GET /version', async () => {
    const app = await buildTestApp({ GIT_COMMIT: COMMIT })
    const version = (await app.inject({ method: 'GET', url: '/version' })).json() as Record<string, string>
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    await app.close()
    expect(sample(metrics, 'compute_build_info', version)).toBe(1)
  })
})
