import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const podman = spawnSync('sh', ['-c', 'command -v podman'], { encoding: 'utf8' }).status === 0
const stores: Array<Record<string, string>> = []
afterEach(() => {
  // Podman's own reset unmounts what the overlay driver mounted in the store, then it can go.
  for (const env of stores.splice(0)) {
    spawnSync('podman', ['system', 'reset', '--force'], { env: { ...process.env, ...env }, stdio: 'ignore' })
    rmSync(dirname(env.CONTAINERS_STORAGE_CONF!), { recursive: true, force: true })
  }
})

/**
 * A Podman store of the test's own, standing for the machine's default one (CONTAINERS_STORAGE_CONF),
 * so "a reset Podman" needs no `podman system reset` of the machine's real store.
 */
function defaultStore (): { dir: string, env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'podman-store-'))
  // As Debian's Podman ships: no driver set, so the first command that opens the store picks one.
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = ""\ngraphroot = "${dir}/graph"\nrunroot = "${dir}/run"\n`)
  const env = { CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), STAND_IN_STORE: join(dir, 'stand-in') }
  stores.push(env)
  return { dir, env }
}

/** scripts/test-container.sh up to the point where its runtime is chosen and that runtime's store opens. */
function chooseRuntime (env: Record<string, string>) {
  return spawnSync('bash', ['scripts/test-container.sh'], {
    env: { ...process.env, ...env, CONTAINER_TEST_DRY_RUN: '1' },
    encoding: 'utf8',
    timeout: 120_000
  })
}

describe.skipIf(!podman)('test:container picks a runtime whatever state Podman is in (needs podman)', () => {
  it('on a Podman never used before: its probe creates the default store, and the stand-ins still open theirs', () => {
    const { dir, env } = defaultStore()
    const run = chooseRuntime(env)
    expect(run.stderr + run.stdout).not.toMatch(/database configuration mismatch/)
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^runtime: (podman|stand-in)$/m)
    // The probe did open (and so create) the default store: the case that broke the stand-ins.
    expect(existsSync(join(dir, 'graph', 'libpod'))).toBe(true)
  })

  it.each(['vfs', 'overlay'])('on a Podman used before with the %s driver', (driver) => {
    const { env } = defaultStore()
    execFileSync('podman', ['--storage-driver', driver, 'info'], { env: { ...process.env, ...env }, stdio: 'ignore' })
    const run = chooseRuntime(env)
    expect(run.status).toBe(0)
    expect(run.stdout).toMatch(/^runtime: (podman|stand-in)$/m)
  })
})

it.runIf(!podman)('test:container runtime choice: skipped, Podman is not installed here', () => {
  expect(podman).toBe(false)
})
