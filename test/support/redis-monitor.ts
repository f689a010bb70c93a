import { once } from 'node:events'
import { createConnection, type Socket } from 'node:net'

export interface RedisMonitor {
  /** Resolves once every command Redis ran before this call has been seen. */
  flush(): Promise<void>
  close(): void
}

/**
 * Redis MONITOR over a plain socket: `onCommand` gets each command's name (lower case) and
 * arguments as Redis ran them, from scripts too, and who ran it: `lua` for a script's own commands,
 * else the client's address. ioredis's own monitor() can take a MONITOR line for the reply to its
 * ready check ("Command queue state error", redis/ioredis#1981).
 */
export async function monitorRedis (port: number, onCommand: (args: string[], source: string) => void): Promise<RedisMonitor> {
  const socket: Socket = createConnection({ port, host: '127.0.0.1' })
  await once(socket, 'connect')
  let buffered = ''
  let started!: () => void
  const ok = new Promise<void>((resolve) => { started = resolve })
  const marks = new Map<string, () => void>()
  socket.setEncoding('utf8').on('data', (text: string) => {
    buffered += text
    const lines = buffered.split('\r\n')
    buffered = lines.pop()!
    for (const line of lines) {
      if (line === '+OK') { started(); continue }
      // +1700000000.123456 [0 127.0.0.1:5555] "hgetall" "key"  (arguments quoted, \" escaped)
      const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'))
      if (args.length === 0) continue
      const source = /^\+[\d.]+ \[\d+ ([^\]]+)\]/.exec(line)?.[1] ?? ''
      const name = args[0]!.toLowerCase()
      if (name === 'echo' && marks.has(args[1]!)) marks.get(args[1]!)!()
      else onCommand([name, ...args.slice(1)], source)
    }
  })
  socket.write('MONITOR\r\n')
  await ok
  let count = 0
  return {
    async flush () {
      const mark = `monitor mark ${++count}`
      const seen = new Promise<void>((resolve) => marks.set(mark, resolve))
      const other = createConnection({ port, host: '127.0.0.1' })
      other.end(`ECHO "${mark}"\r\n`)
      other.on('error', () => {})
      await seen
    },
    close () { socket.destroy() }
  }
}
