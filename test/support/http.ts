import { Agent, request } from 'node:http'

export const json = { 'content-type': 'application/json' }

export interface Reply {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** POSTs JSON and reads the JSON answer. */
export async function postJson (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(url, { method: 'POST', headers: { ...json, ...headers }, body: JSON.stringify(body) })
  return { status: response.status, headers: response.headers, body: await response.json() as Record<string, unknown> }
}

export async function getJson (url: string): Promise<Record<string, unknown>> {
  return await (await fetch(url)).json() as Record<string, unknown>
}

export interface PlainReply {
  status: number
  /** The first 2 KiB of the body. */
  body: string
}

/**
 * POSTs JSON through `agent` (keep-alive, and a source address of its own on the loopback network
 * when it has `localAddress`, so the server sees distinct clients); status 0 when it failed.
 */
export function postJsonThrough (agent: Agent, url: string, body: unknown, headers: Record<string, string> = {}): Promise<PlainReply> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', agent, headers: { ...json, ...headers }, timeout: 30_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { if (text.length < 2048) text += chunk })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }))
      res.on('error', () => resolve({ status: 0, body: '' }))
    })
    req.on('error', () => resolve({ status: 0, body: '' }))
    req.on('timeout', () => req.destroy())
    req.end(JSON.stringify(body))
  })
}

/** A keep-alive agent whose connections come from `localAddress` (127.0.0.2, 127.0.0.3 ...). */
export const agentFrom = (localAddress: string, sockets = 8) => new Agent({ keepAlive: true, maxSockets: sockets, localAddress })
