import type { Redis } from 'ioredis'
import { monitorRedis } from '../../test/support/redis-monitor.js'

/** Commands Redis ran: those clients sent (each a round trip, a script's EVALSHA included) and those scripts ran. */
export interface CommandCounts {
  sent: number
  inScripts: number
  /** By command name: sent, and in scripts. */
  sentByName: Record<string, number>
  inScriptsByName: Record<string, number>
}

export interface CommandCounter {
  /** Every command run so far, once Redis has run all that came before this call. */
  read(): Promise<CommandCounts>
  close(): void
}

/**
 * Counts the commands Redis runs from now on, by MONITOR, leaving out those of `ignored` (the
 * measuring connection's own address, so that sampling memory does not count as the job's cost).
 */
export async function countCommands (port: number, ignored: Redis): Promise<CommandCounter> {
  const own = `${ignored.stream.localAddress}:${ignored.stream.localPort}`
  const counts: CommandCounts = { sent: 0, inScripts: 0, sentByName: {}, inScriptsByName: {} }
  const monitor = await monitorRedis(port, ([name], source) => {
    if (source === own) return
    const byName = source === 'lua' ? counts.inScriptsByName : counts.sentByName
    if (source === 'lua') counts.inScripts++
    else counts.sent++
    byName[name!] = (byName[name!] ?? 0) + 1
  })
  return {
    async read () {
      await monitor.flush()
      return { ...counts, sentByName: { ...counts.sentByName }, inScriptsByName: { ...counts.inScriptsByName } }
    },
    close: () => monitor.close()
  }
}

/** Per-chunk figures from two readings of a counter; by name, the most run first. */
export function perChunk (before: CommandCounts, after: CommandCounts, chunks: number) {
  const byName = (pick: (counts: CommandCounts) => Record<string, number>) => Object.entries(pick(after))
    .map(([name, n]) => [name, (n - (pick(before)[name] ?? 0)) / chunks] as [string, number])
    .sort((a, b) => b[1] - a[1])
  return {
    sent: (after.sent - before.sent) / chunks,
    inScripts: (after.inScripts - before.inScripts) / chunks,
    sentByName: byName((counts) => counts.sentByName),
    inScriptsByName: byName((counts) => counts.inScriptsByName)
  }
}

export interface KeyBytes {
  /** MEMORY USAGE of every key but streams. */
  keys: number
  /** MEMORY USAGE of streams: BullMQ's event streams, capped in length and shared by every job of a queue. */
  streams: number
  count: number
}

/** The bytes Redis holds for its keys, each measured exactly (MEMORY USAGE ... SAMPLES 0). */
export async function keyBytes (redis: Redis): Promise<KeyBytes> {
  const total: KeyBytes = { keys: 0, streams: 0, count: 0 }
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000)
    cursor = next
    const pipeline = redis.pipeline()
    for (const key of keys) pipeline.type(key).memory('USAGE', key, 'SAMPLES', 0)
    const replies = await pipeline.exec() ?? []
    for (let i = 0; i < keys.length; i++) {
      const [type, bytes] = [replies[2 * i]?.[1], replies[2 * i + 1]?.[1]]
      if (typeof bytes !== 'number') continue // expired between SCAN and MEMORY
      if (type === 'stream') total.streams += bytes
      else total.keys += bytes
      total.count++
    }
  } while (cursor !== '0')
  return total
}
