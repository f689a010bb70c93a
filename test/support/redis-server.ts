import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { Redis } from 'ioredis'
import { freePort } from './server-process.js'

export interface RedisServer {
  url: string
  port: number
  child: ChildProcess
  stop(): Promise<void>
}

/**
 * Starts a throwaway redis-server on a free loopback port, without persistence, and resolves once
 * it answers PING. `.ci/run` installs redis-server (Debian) when it is missing. `extraArgs` go on
 * its command line (e.g. `--enable-debug-command local` for DEBUG SLEEP).
 */
/** Redis servers started and not yet stopped: killed when the test process exits, whatever its tests did. */
const runningRedis = new Set<ChildProcess>()
process.once('exit', () => { for (const child of runningRedis) child.kill('SIGKILL') })

export async function startRedis (timeoutMs = 10_000, extraArgs: string[] = []): Promise<RedisServer> {
  const port = await freePort()
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--protected-mode', 'yes', '--loglevel', 'warning', ...extraArgs
  ], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  runningRedis.add(child)
  const exited = once(child, 'exit').finally(() => runningRedis.delete(child))
  const deadline = Date.now() + timeoutMs
  while (!(await answersPing(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}\n${stderr}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`redis-server did not answer within ${timeoutMs} ms\n${stderr}`)
    }
    await sleep(20)
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    child,
    async stop () {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}

function answersPing (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    socket.setTimeout(500)
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => { socket.destroy(); resolve(data.toString().startsWith('+PONG')) })
    socket.once('error', () => resolve(false))
    socket.once('timeout', () => { socket.destroy(); resolve(false) })
  })
}

/**
 * Fills a Redis past its maxmemory, as a store full of other keys would be: 2 MiB of 64 KiB strings,
 * then maxmemory (noeviction) 1 MiB below what it uses, so that every write that needs memory is
 * refused with OOM however small (exactly at the limit, freed buffers would let small writes in).
 * `free()` lifts the limit again and drops the filler.
 */
export async function fillRedis (url: string): Promise<{ free(): Promise<void> }> {
  const admin = new Redis(url, { maxRetriesPerRequest: 1 })
  const filler = 'x'.repeat(64 * 1024)
  for (let i = 0; i < 32; i++) await admin.set(`filler:${i}`, filler)
  const used = Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1])
  await admin.config('SET', 'maxmemory-policy', 'noeviction')
  await admin.config('SET', 'maxmemory', String(used - 1024 * 1024))
  return {
    async free () {
      await admin.config('SET', 'maxmemory', '0')
      const keys = await admin.keys('filler:*')
      if (keys.length > 0) await admin.del(...keys)
      admin.disconnect()
    }
  }
}

/**
 * Sends DEBUG SLEEP (the server needs `--enable-debug-command local`) and resolves once Redis is
 * seen not answering a PING from another connection, so that requests made next find it asleep.
 * `woke` settles with the DEBUG reply when it wakes up.
 */
export async function putRedisToSleep (url: string, seconds: number): Promise<{ woke: Promise<string> }> {
  const admin = new Redis(url)
  await admin.ping()
  const woke = (admin.call('DEBUG', 'SLEEP', String(seconds)) as Promise<string>)
    .catch((error: Error) => error.message)
    .finally(() => admin.disconnect())
  const probe = new Redis(url, { maxRetriesPerRequest: 1 })
  try {
    for (let i = 0; i < 50; i++) {
      const answered = await Promise.race([probe.ping().then(() => true), sleep(300).then(() => false)])
      if (!answered) return { woke }
    }
    throw new Error('Redis did not go to sleep')
  } finally {
    probe.disconnect()
  }
}
