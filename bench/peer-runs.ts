import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

/** Contestants of bench/kernel-vs-peer.ts: one process each, run alone, one after another. */
export interface Contestant { name: string, file: string, args: string[] }

export const run = promisify(execFile)

export function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length / 2
  return sorted.length % 2 === 1 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** `--peer NAME=COMMAND`: a shell command; extra arguments reach it as "$@". */
export function parsePeer (spec: string): Contestant {
  const match = /^([a-z][a-z0-9-]*)=(.+)$/s.exec(spec)
  if (match === null) throw new Error(`--peer takes NAME=COMMAND, got ${JSON.stringify(spec)}`)
  return { name: match[1]!, file: '/bin/sh', args: ['-c', `${match[2]!} "$@"`, 'sh'] }
}

/** The order of round `round`: rotated, so no contestant always runs first on a machine that has just been idle. */
export function rotated<T> (items: T[], round: number): T[] {
  return items.map((_, i) => items[(i + round) % items.length]!)
}
