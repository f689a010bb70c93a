// A child process of the idle-sockets attack: a process can hold only as many sockets as its own
// descriptor limit, so the attack spreads its sockets over a few of these.
import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'

export interface HolderReport {
  /** By outcome: "200", "429", "503", "closed, no answer", "error ECONNREFUSED" ... */
  outcomes: Record<string, number>
  /** Headers of the first refusal seen, to show what the refused got. */
  refusal?: string
  /** How many of the sockets are still open when the opening ends (idle, answered or not). */
  stillOpen: number
}

const [port, localAddress, total, capMs] = [Number(process.argv[2]), process.argv[3]!, Number(process.argv[4]), Number(process.argv[5])]
const BATCH = 250
/** After the last socket, how long answers may still come before the report. */
const SETTLE_MS = 5000
const sockets: Socket[] = []
const outcomes = new Map<Socket, string>()
const report: HolderReport = { outcomes: {}, stillOpen: 0 }

/**
 * Connects and sends one GET /health/live, then keeps the socket, idle, whatever comes back: the
 * first answer's status (or how it ended) is its outcome. Resolves once connected (or failed).
 */
function open (): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress })
    sockets.push(socket)
    const settle = (outcome: string) => {
      if (!outcomes.has(socket)) outcomes.set(socket, outcome)
      resolve()
    }
    socket.on('error', (error: NodeJS.ErrnoException) => settle(`error ${error.code ?? 'unknown'}`))
    socket.on('close', () => settle('closed, no answer'))
    socket.once('connect', () => resolve())
    socket.once('data', (chunk: Buffer) => {
      const head = chunk.toString('latin1')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 'garbled'
      if (status !== '200' && report.refusal === undefined) report.refusal = head.split('\r\n\r\n')[0]!.replaceAll('\r\n', '; ')
      settle(status)
    })
    socket.write('GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
  })
}

const started = performance.now()
for (let sent = 0; sent < total && performance.now() - started < capMs; sent += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, total - sent) }, open))
}
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS))
for (const socket of sockets) {
  const outcome = outcomes.get(socket) ?? 'no answer yet'
  report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1
}
report.stillOpen = sockets.filter((socket) => !socket.destroyed).length
process.send!(report)
// Hold the idle sockets until told to let go.
process.once('message', () => {
  for (const socket of sockets) socket.destroy()
  process.exit(0)
})
