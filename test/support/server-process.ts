import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { compiledPath } from '../../src/platform/paths.js'

/** The compiled server entry point. */
export const serverEntry = compiledPath('src/server.js')

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface ServerProcess {
  url: string
  port: number
  child: ChildProcess
  /** Every JSON log line the server has written so far. */
  logs: Array<Record<string, unknown>>
  stderr: () => string
  exited: Promise<Exit>
  /** Sends a signal (SIGTERM by default) unless the process has already ended, and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>
}

/** Every server child still running, so a tool interrupted mid-start can still stop them all. */
export const runningServers = new Set<ChildProcess>()
// A test file that ends (or times out in a hook) with servers still running leaves none behind.
process.once('exit', () => { for (const child of runningServers) child.kill('SIGKILL') })

/** A port the kernel just handed out and released: free unless another process races for it. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

export interface StartOptions {
  timeoutMs?: number
  /** Flags for Node itself, e.g. `--trace-deopt`. */
  nodeArgs?: string[]
  /** Another build's server entry point (the load tool compares builds). */
  entry?: string
  /**
   * Parse every log line into `logs` (the default). The load tool turns it off: parsing thousands of
   * access lines a second would load its own process, which also drives the load.
   */
  keepLogs?: boolean
  /** A command that execs the rest, e.g. `['prlimit', '--nofile=256:256', '--']` for a lower descriptor limit. */
  wrapper?: string[]
}

/**
 * Starts the real server (dist/src/server.js) in a child process on a loopback port (a free one
 * unless `env.PORT` names one) and resolves once /health/ready answers 200. For tests and tools where a real socket, signal, crash or
 * blocked event loop is the point.
 */
export async function startServer (env: Record<string, string> = {}, { timeoutMs = 60_000, nodeArgs = [], entry = serverEntry, keepLogs = true, wrapper = [] }: StartOptions = {}): Promise<ServerProcess> {
  const port = env.PORT !== undefined ? Number(env.PORT) : await freePort()
  const [command = process.execPath, ...args] = [...wrapper, process.execPath, ...nodeArgs, entry]
  const child = spawn(command, args, {
    // Load shedding off unless a test turns it on (load-shedding.test.ts): on a busy machine it would
    // answer 503 to whatever another test is about (an upload's 413, say).
    env: { ...process.env, LOG_LEVEL: 'info', PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  runningServers.add(child)
  const exited: Promise<Exit> = once(child, 'exit').then(([code, signal]) => {
    runningServers.delete(child)
    return { code, signal }
  })
  const logs: Array<Record<string, unknown>> = []
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  if (keepLogs) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try { logs.push(JSON.parse(line)) } catch { /* not a log line */ }
    })
  } else {
    child.stdout!.resume()
  }

  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + timeoutMs
  let running = true
  exited.then(() => { running = false }, () => {})
  for (;;) {
    if (!running) throw new Error(`server exited with ${JSON.stringify(await exited)} before it was ready\n${stderr}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`server was not ready within ${timeoutMs} ms\n${stderr}`)
    }
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break
    } catch { /* not listening yet */ }
    await sleep(50)
  }

  return {
    url,
    port,
    child,
    logs,
    stderr: () => stderr,
    exited,
    async stop (signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    }
  }
}
