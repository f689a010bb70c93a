import { readdir, readFile } from 'node:fs/promises'

/** Linux accounts CPU time in clock ticks of 1/100 s (USER_HZ) on every common build. */
const TICK_MS = 10

export interface CpuSnapshot {
  /**
   * CPU time of the server process (every thread, including threads that have exited: a worker
   * terminated by an abort takes its time with it from /proc/<pid>/task) and of its main thread;
   * for a server that is a process group (a peer), of every process in it, and NaN for the main thread.
   */
  serverMs: number
  serverMainMs: number
  /** CPU time of the whole sampler process. */
  samplerMs: number
  /** CPU time of this process: the load generator (autocannon) and the tool. */
  clientMs: number
  /** Busy and total CPU time of the whole machine, every core. */
  machineBusyMs: number
  machineTotalMs: number
}

export interface CpuUsage {
  /** CPU milliseconds over the window; NaN for a peer, whose threads are not told apart. */
  serverMainMs: number
  /** Every other thread of the server: the pool's workers, and V8's GC and compiler threads; for a peer, all of its CPU time. */
  serverOtherMs: number
  samplerMs: number
  clientMs: number
  /** Busy time of everything else on the machine: other processes competing for the cores. */
  othersMs: number
  /** Cores' worth of time in the window (wall time x cores). */
  capacityMs: number
}

/** utime + stime from a /proc stat line; the command name in parentheses may hold spaces. */
function cpuMsOf (stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

async function cpuMsOfFile (path: string): Promise<number> {
  const stat = await readFile(path, 'utf8').catch(() => undefined)
  return stat === undefined ? 0 : cpuMsOf(stat)
}

/** CPU milliseconds (user + system, every thread, living or exited) a process has used; 0 once it is gone. */
export async function processCpuMs (pid: number): Promise<number> {
  return cpuMsOfFile(`/proc/${pid}/stat`)
}

/** CPU milliseconds and nice value of each living thread of a process (a thread that exited is not listed). */
export async function threadsCpuMs (pid: number): Promise<Array<{ tid: number, nice: number, cpuMs: number }>> {
  const tids = await readdir(`/proc/${pid}/task`).catch(() => [])
  const threads = await Promise.all(tids.map(async (tid) => {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => undefined)
    if (stat === undefined) return undefined
    // Field 19 is the nice value; fields are counted after the parenthesised command name.
    return { tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]), cpuMs: cpuMsOf(stat) }
  }))
  return threads.filter((thread) => thread !== undefined)
}

/** CPU milliseconds of a process's main thread (its event loop), living or exited; 0 once it is gone. */
export async function mainThreadCpuMs (pid: number): Promise<number> {
  return cpuMsOfFile(`/proc/${pid}/task/${pid}/stat`)
}

/** Pids of the live processes in process group `pgid`, from /proc (Linux only). */
export async function processGroupPids (pgid: number): Promise<number[]> {
  const pids: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => undefined)
    // Fields after the command name: state, ppid, pgrp, ...; a zombie has exited.
    const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (fields !== undefined && Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry))
  }
  return pids
}

/** CPU milliseconds used by the live processes of process group `pgid`. */
export async function processGroupCpuMs (pgid: number): Promise<number> {
  let total = 0
  for (const pid of await processGroupPids(pgid)) total += await processCpuMs(pid)
  return total
}

/**
 * Where the CPU time goes, from /proc; undefined off Linux. `server.group`: the server is the
 * process group `server.pid` (a peer started through a shell), counted whole.
 */
export async function cpuSnapshot (server: { pid: number, group?: boolean }, samplerPid: number): Promise<CpuSnapshot | undefined> {
  if (process.platform !== 'linux') return undefined
  const machine = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal: idle and iowait are the idle part.
  const total = machine.slice(0, 8).reduce((sum, value) => sum + value, 0)
  const idle = machine[3]! + machine[4]!
  const client = process.cpuUsage()
  return {
    serverMs: server.group === true ? await processGroupCpuMs(server.pid) : await processCpuMs(server.pid),
    serverMainMs: server.group === true ? Number.NaN : await mainThreadCpuMs(server.pid),
    samplerMs: await processCpuMs(samplerPid),
    clientMs: (client.user + client.system) / 1000,
    machineBusyMs: (total - idle) * TICK_MS,
    machineTotalMs: total * TICK_MS
  }
}

export function cpuUsageBetween (before: CpuSnapshot, after: CpuSnapshot): CpuUsage {
  const serverMainMs = after.serverMainMs - before.serverMainMs
  const serverOtherMs = after.serverMs - before.serverMs - (Number.isNaN(serverMainMs) ? 0 : serverMainMs)
  const samplerMs = after.samplerMs - before.samplerMs
  const clientMs = after.clientMs - before.clientMs
  const busy = after.machineBusyMs - before.machineBusyMs
  return {
    serverMainMs,
    serverOtherMs,
    samplerMs,
    clientMs,
    othersMs: Math.max(0, busy - (after.serverMs - before.serverMs) - samplerMs - clientMs),
    capacityMs: after.machineTotalMs - before.machineTotalMs
  }
}
