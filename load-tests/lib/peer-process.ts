import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '../../test/support/server-process.js'
import { processGroupPids } from '../../test/support/cpu-time.js'

/** Every peer's process group still running, by the group's id (the shell's pid), for cleanup on Ctrl-C or failure. */
export const runningPeers = new Set<ChildProcess>()

export interface PeerProcess {
  url: string
  /** The shell's pid, which is also the id of the process group the peer runs in. */
  pid: number
  /** Every process the peer left in its group has exited, after SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>
}

/** Signals the peer's whole process group (a command such as `go run` starts the server as a grandchild). */
export function signalPeer (child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal)
  } catch { /* the group is gone */ }
}

/**
 * Starts another server with the service's contract: `command` runs in a shell, in a process group
 * of its own, with `{PORT}` replaced by a free loopback port; resolves once `GET /probe` answers 200.
 */
export async function startPeer (command: string, timeoutMs = 60_000): Promise<PeerProcess> {
  const port = await freePort()
  const child = spawn('/bin/sh', ['-c', command.replaceAll('{PORT}', String(port))], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
  runningPeers.add(child)
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }))
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const state = { running: true }
  exited.then(() => { state.running = false }, () => {})

  const pid = child.pid!
  const url = `http://127.0.0.1:${port}`
  async function stop (graceMs = 5000) {
    signalPeer(child, 'SIGTERM')
    const killAt = Date.now() + graceMs
    await exited
    while ((await processGroupPids(pid)).length > 0) {
      if (Date.now() > killAt) signalPeer(child, 'SIGKILL')
      await sleep(50)
    }
    runningPeers.delete(child)
  }

  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (!state.running) {
      await stop()
      throw new Error(`peer command ${JSON.stringify(command)} exited with ${JSON.stringify(await exited)} before it answered GET /probe\n${stderr}`)
    }
    if (Date.now() > deadline) {
      await stop(0)
      throw new Error(`peer command ${JSON.stringify(command)} did not answer GET /probe within ${timeoutMs} ms\n${stderr}`)
    }
    try {
      if ((await fetch(`${url}/probe`)).status === 200) break
    } catch { /* not listening yet */ }
    await sleep(50)
  }
  return { url, pid, stop }
}
