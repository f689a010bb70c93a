import { readFileSync } from 'node:fs'

/** CPU seconds (user + system, all threads) a process has used, from /proc (Linux). */
export function cpuSeconds (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticksPerSecond = 100 // USER_HZ, fixed at 100 on Linux
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
}
