import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RedisServer } from '../../test/support/redis-server.js'
import type { ServerProcess } from '../../test/support/server-process.js'
import { agentFrom, postJsonThrough as postFrom, type PlainReply as Reply } from '../../test/support/http.js'
import { rawExchange, requestHead, type RawOutcome } from '../../test/support/raw-http.js'

/** What one attack produced, as the table shows it. */
export interface AttackOutcome {
  /** The answer the attacker got: a status, "no answer", "connection closed", "process died" ... */
  answer: string
  /** Bytes of the answer, head and body. */
  bytes?: number
  /** Time to the answer (or to whatever ended the attack). */
  ms: number
  /** One line of extra figures. */
  note?: string
}

export interface Attack {
  name: string
  /** What the attack sends, for the table. */
  description: string
  env?: Record<string, string>
  /** Start a throwaway Redis first and give the server its REDIS_URL (the shared back ends). */
  redis?: boolean
  /** Extra redis-server arguments for that Redis (e.g. `--enable-debug-command local`). */
  redisArgs?: string[]
  /** How long the server may take to become ready (default 20 s). */
  startTimeoutMs?: number
  run(server: ServerProcess, redis?: RedisServer): Promise<AttackOutcome>
}

const MiB = 1024 * 1024

/** `{"values":[[],[],...]}` of about `bytes` bytes: one invalid item per array slot. */
function arraysOfArrays (bytes: number): string {
  const items = Math.floor((bytes - 13) / 3)
  return `{"values":[${new Array(items).fill('[]').join(',')}]}`
}

/** A body sent whole with Content-Length, answered or not within `capMs`. */
export async function sendWhole (server: ServerProcess, path: string, type: string, body: Uint8Array | string, capMs: number, extra: Array<[string, string]> = []) {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  return rawExchange({
    port: server.port,
    head: requestHead('POST', path, [['Content-Type', type], ['Content-Length', length], ...extra]),
    pieces: [{ bytes: body }],
    capMs
  })
}

export function describe (outcome: RawOutcome, server: ServerProcess): string {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return 'process died'
  if (outcome.status === 0) return Number.isNaN(outcome.closedMs) ? 'no answer, still open' : 'closed, no answer'
  return `${outcome.status}${Number.isNaN(outcome.closedMs) ? '' : ', closed'}`
}

function validationAttack (bytes: number, env: Record<string, string> = {}, label = ''): Attack {
  return {
    name: `validation-${bytes / MiB}MiB${label}`,
    description: `POST /v1/sum {"values":[[],[],...]}, ${bytes / MiB} MiB, one bad item per slot${label === '' ? '' : ` (${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})`}`,
    env,
    async run (server) {
      const outcome = await sendWhole(server, '/v1/sum', 'application/json', arraysOfArrays(bytes), 90_000)
      return { answer: describe(outcome, server), bytes: outcome.bytes, ms: outcome.answeredMs, note: firstMessage(outcome) }
    }
  }
}

export function firstMessage (outcome: RawOutcome): string | undefined {
  const match = /"message":"((?:[^"\\]|\\.){0,100})/.exec(outcome.head)
  return match?.[1]
}

/** Declares `declared` bytes, sends `sent`, then stalls. */
export function stalledUpload (server: ServerProcess, declared: number, sent: number, capMs: number, onSent?: () => void) {
  return rawExchange({
    port: server.port,
    head: requestHead('POST', '/v1/sum', [['Content-Type', 'application/octet-stream'], ['Content-Length', declared]]),
    pieces: [{ bytes: new Uint8Array(sent) }],
    capMs,
    ...(onSent === undefined ? {} : { onSent })
  })
}

/** Runs `send` in `loops` concurrent loops until `until`; returns the statuses seen. */
export async function loop (loops: number, until: number, send: () => Promise<Reply>): Promise<number[]> {
  const statuses: number[] = []
  await Promise.all(Array.from({ length: loops }, async () => {
    while (performance.now() < until) {
      const reply = await send()
      statuses.push(reply.status)
      if (reply.status === 0) await sleep(20)
    }
  }))
  return statuses
}

export const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length

export async function probe (server: ServerProcess): Promise<{ pool?: { threadsReplaced?: number } }> {
  return await (await fetch(`${server.url}/probe`)).json() as { pool?: { threadsReplaced?: number } }
}

export const requestAttacks: Attack[] = [
  validationAttack(1 * MiB),
  validationAttack(8 * MiB),
  validationAttack(16 * MiB),
  validationAttack(16 * MiB, { JSON_BODY_LIMIT_BYTES: String(64 * MiB) }, '-json-limit-raised'),
  {
    name: 'deep-nesting',
    description: 'POST /v1/sum {"values":[[[[...]]]]}, 1 MiB of nesting with a "__proto__" key at the bottom',
    async run (server) {
      const depth = Math.floor((MiB - 64) / 2)
      const body = `{"values":${'['.repeat(depth)}{"__proto__":1}${']'.repeat(depth)}}`
      const outcome = await sendWhole(server, '/v1/sum', 'application/json', body, 60_000)
      return { answer: describe(outcome, server), bytes: outcome.bytes, ms: outcome.answeredMs, note: firstMessage(outcome) }
    }
  },
  {
    name: 'json-63MiB-valid',
    description: 'POST /v1/sum, one valid 63 MiB JSON body (8.8M small integers)',
    async run (server) {
      const values = new Array(Math.floor(63 * MiB / 7.5)).fill('123456')
      let body = `{"values":[${values.join(',')}]}`
      body = body.slice(0, 63 * MiB - 2).replace(/,[^,]*$/, '') + ']}'
      const outcome = await sendWhole(server, '/v1/sum', 'application/json', body, 90_000)
      return { answer: describe(outcome, server), bytes: outcome.bytes, ms: outcome.answeredMs, note: firstMessage(outcome) }
    }
  },
  {
    name: 'json-1MiB-valid-x32',
    description: 'POST /v1/sum, 32 concurrent valid JSON bodies just under 1 MiB (100k values each), to measure JSON memory',
    async run (server) {
      const body = `{"values":[${new Array(100_000).fill('1234.5678').join(',')}]}`
      const started = performance.now()
      const outcomes = await Promise.all(Array.from({ length: 32 }, () => sendWhole(server, '/v1/sum', 'application/json', body, 60_000)))
      const statuses = new Map<string, number>()
      for (const outcome of outcomes) statuses.set(describe(outcome, server), (statuses.get(describe(outcome, server)) ?? 0) + 1)
      return { answer: [...statuses].map(([status, n]) => `${n}x ${status}`).join('; '), ms: performance.now() - started, note: `${(body.length / MiB).toFixed(2)} MiB each` }
    }
  },
  {
    name: 'binary-64MiB-valid',
    description: 'POST /v1/sum, one valid 64 MiB application/octet-stream body (8M values), for comparison',
    async run (server) {
      const values = new Float64Array(8 * MiB / 8).fill(1.5)
      const outcome = await sendWhole(server, '/v1/sum', 'application/octet-stream', new Uint8Array(values.buffer), 60_000)
      return { answer: describe(outcome, server), bytes: outcome.bytes, ms: outcome.answeredMs }
    }
  },
  {
    name: 'stalled-upload',
    description: 'REQUEST_TIMEOUT_MS=3000; declares 64 MiB, sends 1 MiB, stalls (watched for 15 s)',
    env: { REQUEST_TIMEOUT_MS: '3000' },
    async run (server) {
      const outcome = await stalledUpload(server, 64 * MiB, MiB, 15_000)
      return { answer: describe(outcome, server), bytes: outcome.bytes, ms: Number.isNaN(outcome.closedMs) ? 15_000 : outcome.closedMs, note: firstMessage(outcome) }
    }
  },
  {
    name: 'trickle',
    description: 'declares 1 KiB of JSON, sends 1 byte every 200 ms (watched for 40 s; default deadline 30 s)',
    async run (server) {
      const body = `{"values":[${'1,'.repeat(500)}1]}`
      const outcome = await rawExchange({
        port: server.port,
        head: requestHead('POST', '/v1/sum', [['Content-Type', 'application/json'], ['Content-Length', body.length]]),
        pieces: [...body].map((character) => ({ bytes: character, delayMs: 200 })),
        capMs: 40_000
      })
      return { answer: describe(outcome, server), bytes: outcome.bytes, ms: Number.isNaN(outcome.closedMs) ? 40_000 : outcome.closedMs, note: firstMessage(outcome) }
    }
  },
  {
    name: 'stalled-uploads-x40',
    description: '40 connections each declare 64 MiB, send 63 MiB and stall (watched for 12 s)',
    env: { UPLOAD_MEMORY_MAX_BYTES: String(256 * MiB) },
    async run (server) {
      const started = performance.now()
      const outcomes = await Promise.all(Array.from({ length: 40 }, () => stalledUpload(server, 64 * MiB, 63 * MiB, 12_000)))
      const statuses = new Map<string, number>()
      for (const outcome of outcomes) {
        const key = describe(outcome, server)
        statuses.set(key, (statuses.get(key) ?? 0) + 1)
      }
      return {
        answer: [...statuses].map(([status, n]) => `${n}x ${status}`).join('; '),
        bytes: Math.max(...outcomes.map((o) => o.bytes)),
        ms: performance.now() - started
      }
    }
  },
  {
    name: 'one-client-256-chunks',
    description: 'client A: 4 loops of {"end":1e9,"chunks":256}; client B: {"end":10} in a loop; client C: {"end":5e7} in a loop; 8 s',
    async run (server) {
      const url = `${server.url}/v1/sum-of-squares`
      const a = agentFrom('127.0.0.2')
      const b = agentFrom('127.0.0.3', 1)
      const c = agentFrom('127.0.0.4', 1)
      const until = performance.now() + 8000
      const started = performance.now()
      const [fromA, fromB, fromC] = await Promise.all([
        loop(4, until, () => postFrom(a, url, { end: 1_000_000_000, chunks: 256 })),
        (async () => { await sleep(500); return loop(1, until, () => postFrom(b, url, { end: 10 })) })(),
        (async () => { await sleep(500); return loop(1, until, () => postFrom(c, url, { end: 50_000_000 })) })()
      ])
      for (const agent of [a, b, c]) agent.destroy()
      return {
        answer: `B ${count(fromB, 200)}/${fromB.length} 200; C ${count(fromC, 200)}/${fromC.length} 200`,
        ms: performance.now() - started,
        note: `A ${count(fromA, 200)}/${fromA.length} 200, ${count(fromA, 503)} 503`
      }
    }
  },
  {
    name: 'short-deadline-flood',
    description: 'client A: 8 loops of {"end":1e8,"chunks":2} with X-Timeout-Ms 1-5; client B: {"end":2e8} in a loop; 8 s, after 4 s of B alone',
    async run (server) {
      const url = `${server.url}/v1/sum-of-squares`
      const a = agentFrom('127.0.0.2')
      const b = agentFrom('127.0.0.3', 1)
      const alone = await loop(1, performance.now() + 4000, () => postFrom(b, url, { end: 200_000_000 }))
      const before = (await probe(server)).pool?.threadsReplaced ?? 0
      const until = performance.now() + 8000
      const started = performance.now()
      const [flood, fromB] = await Promise.all([
        loop(8, until, () => postFrom(a, url, { end: 100_000_000, chunks: 2 }, { 'x-timeout-ms': String(1 + Math.floor(Math.random() * 5)) })),
        loop(1, until, () => postFrom(b, url, { end: 200_000_000 }))
      ])
      const replaced = ((await probe(server)).pool?.threadsReplaced ?? 0) - before
      for (const agent of [a, b]) agent.destroy()
      return {
        answer: `B ${(count(alone, 200) / 4).toFixed(1)} -> ${(count(fromB, 200) / 8).toFixed(1)} req/s`,
        ms: performance.now() - started,
        note: `${replaced} threads replaced; A: ${flood.length} requests, ${count(flood, 504)} 504, ${count(flood, 503)} 503`
      }
    }
  },
  {
    name: 'sigterm-with-stalled-upload',
    description: 'SHUTDOWN_GRACE_MS=10000; a stalled upload (64 MiB declared, 1 MiB sent), then SIGTERM',
    env: { SHUTDOWN_GRACE_MS: '10000' },
    async run (server) {
      let signalledAt = 0
      const upload = stalledUpload(server, 64 * MiB, MiB, 20_000, () => {
        setTimeout(() => { signalledAt = performance.now(); server.child.kill('SIGTERM') }, 500)
      })
      const [outcome, exit] = await Promise.all([upload, server.exited])
      return {
        answer: `client: ${describe({ ...outcome }, { ...server, child: { exitCode: null, signalCode: null } } as unknown as ServerProcess)}; exit ${exit.code ?? exit.signal}`,
        bytes: outcome.bytes,
        ms: performance.now() - signalledAt,
        note: firstMessage(outcome)
      }
    }
  },
  {
    name: 'two-content-types',
    description: 'POST /v1/sum with Content-Type: application/octet-stream and Content-Type: application/json, a JSON body of 16 bytes',
    async run (server) {
      const body = '{"values":[1,2]}'
      const outcome = await rawExchange({
        port: server.port,
        head: requestHead('POST', '/v1/sum', [['Content-Type', 'application/octet-stream'], ['Content-Type', 'application/json'], ['Content-Length', body.length]]),
        pieces: [{ bytes: body }],
        capMs: 5000
      })
      const answer = /\r\n\r\n(.*)$/s.exec(outcome.head)?.[1]?.slice(0, 80)
      return { answer: describe(outcome, server), bytes: outcome.bytes, ms: outcome.answeredMs, note: answer }
    }
  },
  {
    name: 'docs-headers',
    description: 'GET /docs/: Content-Security-Policy and X-Frame-Options',
    async run (server) {
      const started = performance.now()
      const response = await fetch(`${server.url}/docs/`)
      await response.arrayBuffer()
      const csp = response.headers.get('content-security-policy')
      const frame = response.headers.get('x-frame-options')
      return {
        answer: String(response.status),
        ms: performance.now() - started,
        note: `CSP: ${csp === null ? 'none' : 'yes'}; X-Frame-Options: ${frame ?? 'none'}`
      }
    }
  }
]
