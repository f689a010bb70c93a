import { connect, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

/** What a raw exchange saw: the answer, if any, and when the server closed the connection. */
export interface RawOutcome {
  /** HTTP status of the answer; 0 when none came. */
  status: number
  /** Bytes of the whole answer, head and body. */
  bytes: number
  /** The answer's head and the first 2 KiB of its body. */
  head: string
  /** From the first byte sent to the answer's first byte; NaN without an answer. */
  answeredMs: number
  /** From the first byte sent to the server closing the connection; NaN if it stayed open. */
  closedMs: number
}

export interface RawRequest {
  port: number
  /** Request line and headers, without the blank line that ends them. */
  head: string
  /** Body pieces, sent in order, each after its `delayMs` and once its `after` has settled; the upload stalls after the last one. */
  pieces?: Array<{ bytes: Uint8Array | string, delayMs?: number, after?: Promise<unknown> }>
  /** Give up (and report what was seen) after this long. */
  capMs: number
  /** Source address on the loopback network, so the server sees distinct clients. */
  localAddress?: string
  /** Called once the socket is connected and the head sent (to send a signal at the right moment, say). */
  onSent?: (socket: Socket) => void
}

/**
 * One HTTP/1.1 exchange over a bare socket, for what a well-behaved client library will not do:
 * stall, trickle, send a header twice. The answer is counted, not kept, beyond its first 2 KiB.
 */
export async function rawExchange ({ port, head, pieces = [], capMs, localAddress, onSent }: RawRequest): Promise<RawOutcome> {
  const started = performance.now()
  const outcome: RawOutcome = { status: 0, bytes: 0, head: '', answeredMs: Number.NaN, closedMs: Number.NaN }
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress === undefined ? {} : { localAddress }) })
  socket.on('error', () => {})
  let closed = false
  let finished = false
  const done = new Promise<void>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      if (outcome.bytes === 0) outcome.answeredMs = performance.now() - started
      if (outcome.head.length < 4096) outcome.head += chunk.subarray(0, 4096).toString('latin1')
      outcome.bytes += chunk.length
      const match = /^HTTP\/1\.1 (\d{3})/.exec(outcome.head)
      if (match !== null) outcome.status = Number(match[1])
      // A complete answer on a connection the server keeps open ends the exchange too.
      const end = outcome.head.indexOf('\r\n\r\n')
      const length = /\r\ncontent-length: (\d+)/i.exec(outcome.head.slice(0, end))
      if (end >= 0 && length !== null && outcome.bytes >= end + 4 + Number(length[1])) resolve()
    })
    socket.on('close', () => {
      closed = true
      outcome.closedMs = performance.now() - started
      resolve()
    })
  })
  done.then(() => { finished = true }, () => {})
  const cap = sleep(capMs).then(() => {})
  await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), done])
  if (!finished) {
    socket.write(`${head}\r\n\r\n`)
    onSent?.(socket)
    for (const { bytes, delayMs = 0, after } of pieces) {
      if (delayMs > 0) await Promise.race([sleep(delayMs), done])
      if (after !== undefined) await Promise.race([after, done, cap])
      if (finished || performance.now() - started > capMs) break
      if (!socket.write(bytes)) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), done, cap])
    }
  }
  await Promise.race([done, cap])
  // Give the server a moment to close the connection it said it would close.
  if (!closed && /\r\nconnection: close/i.test(outcome.head)) await Promise.race([new Promise((resolve) => socket.once('close', resolve)), sleep(1000)])
  socket.destroy()
  return outcome
}

/** A request head with the given method, path and headers (one line per entry, repeats allowed). */
export function requestHead (method: string, path: string, headers: Array<[string, string | number]>): string {
  return [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([name, value]) => `${name}: ${value}`)].join('\r\n')
}
