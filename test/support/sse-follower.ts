import { connect, type Socket } from 'node:net'
import { requestHead } from './raw-http.js'

/** A follower of a job's events over a bare keep-alive socket, which it never closes itself. */
export interface SseFollower {
  socket: Socket
  /** The status of the answer (0 if the connection closed before one came). */
  status: Promise<number>
  /** The answer's head and body so far (the last 4 KiB). */
  text: () => string
  /** Resolves once a `done` event has arrived. */
  done: Promise<void>
  /** Resolves once the server has closed the connection. */
  closed: Promise<void>
}

/** Opens GET /v1/jobs/{id}/events, from `localAddress` (another loopback address is another client). */
export function followOverSocket (port: number, id: string, { localAddress, headers = [] }: { localAddress?: string, headers?: Array<[string, string]> } = {}): SseFollower {
  const socket = connect({ port, host: '127.0.0.1', ...(localAddress === undefined ? {} : { localAddress }) })
  socket.on('error', () => {})
  let text = ''
  let onStatus: (status: number) => void = () => {}
  let onDone: () => void = () => {}
  const status = new Promise<number>((resolve) => { onStatus = resolve })
  const done = new Promise<void>((resolve) => { onDone = resolve })
  const closed = new Promise<void>((resolve) => socket.once('close', () => { onStatus(0); resolve() }))
  socket.once('connect', () => socket.write(`${requestHead('GET', `/v1/jobs/${id}/events`, [['Accept', 'text/event-stream'], ...headers])}\r\n\r\n`))
  socket.on('data', (chunk: Buffer) => {
    // Only the head and the latest events matter: thousands of followers must stay small.
    text = (text + chunk.toString('latin1')).slice(-4096)
    const match = /^HTTP\/1\.1 (\d{3})/.exec(text)
    if (match !== null) onStatus(Number(match[1]))
    if (text.includes('event: done')) onDone()
  })
  return { socket, status, text: () => text, done, closed }
}
