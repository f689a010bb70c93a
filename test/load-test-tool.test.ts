import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { compiledPath } from '../src/paths.js'

const tool = compiledPath('load-tests/run.js')

/** True while `pid` runs: a zombie waiting to be reaped has already stopped. */
async function isRunning (pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return stat !== '' && !/^\d+ \(.*\) Z/.test(stat)
}

describe('the load-test tool on Ctrl-C', () => {
  let outDir: string | undefined
  afterEach(async () => { if (outDir !== undefined) await rm(outDir, { recursive: true, force: true }) })

  it.each([
    ['while the first server warms up', /\[pool\] warming up/],
    ['while the probe sampler and the load run', /\[pool\] load:/]
  ])('stops %s, leaves no server or sampler running and exits 130', async (_when, trigger) => {
    outDir = await mkdtemp(join(tmpdir(), 'loadtest-'))
    const child = spawn(process.execPath, [tool, '--quick', '--out', outDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    const exited = once(child, 'exit')
    const pids: number[] = []
    let output = ''
    for await (const line of createInterface({ input: child.stdout! })) {
      output += `${line}\n`
      const pid = /pid (\d+)/.exec(line)
      if (pid !== null) pids.push(Number(pid[1]))
      if (trigger.test(line)) {
        child.kill('SIGINT')
        break
      }
    }
    const [code] = await exited
    expect(code, output).toBe(130)
    expect(pids.length).toBeGreaterThan(0)
    for (const pid of pids) expect(await isRunning(pid), `pid ${pid} still running`).toBe(false)
    expect(await readdir(outDir)).toEqual([]) // an interrupted run writes no report
  })
})
