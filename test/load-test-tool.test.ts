import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { compiledPath, projectPath } from '../src/platform/paths.js'
import { processGroupPids } from './support/cpu-time.js'

const tool = compiledPath('load-tests/run.js')
const fakePeer = projectPath('test/fixtures/peer-server.mjs')

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

describe('the load-test tool with a peer', () => {
  let outDir: string | undefined
  afterEach(async () => { if (outDir !== undefined) await rm(outDir, { recursive: true, force: true }) })

  it('loads the peer like the service, checks its answers, reports it beside the pool and stops its whole process group', async () => {
    outDir = await mkdtemp(join(tmpdir(), 'loadtest-'))
    // `& wait`: the server is the shell's child, as a `go run` server is the go tool's, so only a group kill stops it.
    const peer = `${process.execPath} ${fakePeer} {PORT} & wait`
    const child = spawn(process.execPath, [tool, '--quick', '--executors', 'pool', '--terms', '1000', '--peer', `fake=${peer}`, '--out', outDir], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr!.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const [code] = await once(child, 'exit')
    expect(code, output).toBe(0)

    const report = JSON.parse(await readFile(join(outDir, 'latest.json'), 'utf8'))
    expect(report.runs.map((run: { name: string }) => run.name)).toEqual(['pool', 'fake'])
    const fake = report.runs[1]
    expect(fake).toMatchObject({ kind: 'peer', command: peer, terms: 1000 })
    expect(fake.load.ok).toBeGreaterThan(100)
    expect(fake.load.wrong).toBe(0)
    expect(fake.probe.busy.rttMs.count).toBeGreaterThan(10)
    expect(fake.cpu.serverOtherMs).toBeGreaterThan(0) // the server, a child of the shell, is counted
    expect(report.ratios.map((r: { name: string }) => r.name)).toContain('pool / fake throughput')
    expect(await readFile(join(outDir, 'latest.md'), 'utf8')).toContain('|  | pool | fake |')

    const group = Number(/\[fake\] server pid (\d+)/.exec(output)?.[1])
    expect(group).toBeGreaterThan(0)
    expect(await processGroupPids(group)).toEqual([])
  })
})
