import { readFileSync } from 'node:fs'

/** Assumed when the limit cannot be read (not Linux): the usual soft limit of a shell. */
const UNKNOWN_OPEN_FILES = 1024

/** The soft limit on open file descriptors (`ulimit -n`), from /proc/self/limits on Linux. */
export function openFilesSoftLimit (read = () => readFileSync('/proc/self/limits', 'utf8')): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(read())
    if (match === null) return UNKNOWN_OPEN_FILES
    return match[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(match[1])
  } catch {
    return UNKNOWN_OPEN_FILES
  }
}

/** Most connections the default allows, whatever the limit: 64k idle connections hold about 600 MiB. */
const MOST_CONNECTIONS = 65_536

/**
 * Default MAX_CONNECTIONS: the descriptor limit less a fifth of it (at least 512) for everything
 * else that needs one: connections being refused, the pool's threads, Redis, the metrics listener,
 * log and /proc reads. A process that runs out of descriptors fails in places no guard covers.
 */
export function defaultMaxConnections (limit = openFilesSoftLimit()): number {
  const headroom = Math.max(512, Math.floor(limit / 5))
  return Math.max(16, Math.min(MOST_CONNECTIONS, limit - headroom))
}
