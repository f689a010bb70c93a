import { request as httpRequest } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { closedForm } from '../../test/support/closed-form.js'

/** What a scenario did and what the service answered. */
export interface Outcome {
  scenario: string
  status: number | 'network-error' | 'hung-up' | 'reset while uploading'
  /** True when the answer is one this scenario can legitimately get. */
  expected: boolean
  /** For valid computations: whether the answer was the right number. */
  correct?: boolean
  detail?: string
}

export interface Scenario {
  name: string
  weight: number
  /** Only with ENABLE_TEST_FAULTS on the server. */
  needsFaults?: boolean
  run(url: string): Promise<Outcome[]>
}

const json = { 'content-type': 'application/json' }

/** 503 is always a legitimate answer under a soak: bursts fill the queue on purpose. */
const BUSY = [503]

function randomInt (min: number, max: number): number {
  return Math.floor(min + Math.random() * (max - min + 1))
}

async function post (url: string, body: string | Buffer, headers: Record<string, string> = json) {
  try {
    const response = await fetch(url, { method: 'POST', headers, body })
    return { status: response.status, body: await response.text() }
  } catch (error) {
    return { status: 'network-error' as const, body: String((error as Error).cause ?? error) }
  }
}

function outcome (scenario: string, status: number | 'network-error', allowed: number[], detail?: string): Outcome {
  return { scenario, status, expected: typeof status === 'number' && allowed.includes(status), ...(detail === undefined ? {} : { detail }) }
}

const validSumOfSquares: Scenario = {
  name: 'valid sum-of-squares',
  weight: 10,
  async run (url) {
    // Sizes spread log-uniformly from 10 to 10^9 terms, anywhere in +-10^12.
    const terms = Math.floor(10 ** (1 + Math.random() * 8))
    const start = randomInt(-1e12, 1e12)
    const chunks = Math.random() < 0.3 ? randomInt(1, 16) : undefined
    const answer = await post(`${url}/v1/sum-of-squares`, JSON.stringify({ start, end: start + terms, chunks }))
    const result = outcome(this.name, answer.status, [200, ...BUSY])
    if (answer.status === 200) result.correct = JSON.parse(answer.body).result === closedForm(start, start + terms).toString()
    return [result]
  }
}

const uploads: Scenario = {
  name: 'sum uploads',
  weight: 4,
  async run (url) {
    // Whole numbers below 2^31, at most 2^20 of them: every partial sum is exact in float64, so the
    // plain loop here is the reference for both modes.
    const count = Math.floor(2 ** (Math.random() * 20))
    const values = Float64Array.from({ length: count }, () => randomInt(-(2 ** 31), 2 ** 31))
    const expected = values.reduce((sum, value) => sum + value, 0)
    const mode = Math.random() < 0.5 ? 'exact' : 'fast'
    const asJson = Math.random() < 0.3
    const answer = asJson
      ? await post(`${url}/v1/sum?mode=${mode}`, JSON.stringify({ values: Array.from(values) }))
      : await post(`${url}/v1/sum?mode=${mode}`, Buffer.from(values.buffer), { 'content-type': 'application/octet-stream' })
    const result = outcome(this.name, answer.status, [200, ...BUSY], `${count} values, ${asJson ? 'JSON' : 'binary'}`)
    if (answer.status === 200) result.correct = JSON.parse(answer.body).sum === expected
    return [result]
  }
}

const badUploads: Array<[string, Buffer | string, string, number]> = [
  ['NaN in binary', Buffer.from(Float64Array.of(1, Number.NaN, 2).buffer), 'application/octet-stream', 422],
  ['infinity in binary', Buffer.from(Float64Array.of(Number.POSITIVE_INFINITY).buffer), 'application/octet-stream', 422],
  ['overflowing sum', Buffer.from(Float64Array.of(1.7e308, 1.7e308).buffer), 'application/octet-stream', 422],
  ['length not a multiple of 8', Buffer.alloc(13), 'application/octet-stream', 400],
  ['values not numbers', '{"values":[1,"2"]}', 'application/json', 400],
  ['text body', '1 2 3', 'text/plain', 415]
]

const invalidUploads: Scenario = {
  name: 'invalid sum uploads',
  weight: 2,
  async run (url) {
    const [detail, body, type, status] = badUploads[randomInt(0, badUploads.length - 1)]!
    const answer = await post(`${url}/v1/sum`, body, { 'content-type': type })
    return [outcome(this.name, answer.status, [status, ...BUSY], detail)]
  }
}

const invalidBodies: Array<[string, string, Record<string, string>]> = [
  ['malformed JSON', '{"end": 5', json],
  ['string for a number', '{"end": "5"}', json],
  ['unsafe integer', '{"end": 9007199254740993}', json],
  ['end below start', '{"start": 5, "end": 1}', json],
  ['range over MAX_TERMS', '{"end": 1e15}', json],
  ['unknown field', '{"end": 5, "nope": 1}', json],
  ['wrong content type', 'end=5', { 'content-type': 'text/plain' }],
  ['deep nesting', '['.repeat(50_000) + ']'.repeat(50_000), json],
  ['oversized body', `{"end":5,"pad":"${'x'.repeat(1_200_000)}"}`, json]
]

const invalidRequests: Scenario = {
  name: 'invalid requests',
  weight: 4,
  async run (url) {
    const [detail, body, headers] = invalidBodies[randomInt(0, invalidBodies.length - 1)]!
    const answer = await post(`${url}/v1/sum-of-squares`, body, headers)
    const result = outcome(this.name, answer.status, [400, 413, 415, ...BUSY], detail)
    // The service answers an oversized (or unadmitted) body before reading it and closes the
    // connection; a client still sending can see the reset before it reads the answer (seen about
    // once in 300 here). That is the client's view of a refusal, not a server fault: counted apart.
    if (answer.status === 'network-error' && detail === 'oversized body') {
      result.expected = true
      result.status = 'reset while uploading'
    }
    return [result]
  }
}

const shortDeadlines: Scenario = {
  name: 'short deadlines',
  weight: 2,
  async run (url) {
    const answer = await post(`${url}/v1/sum-of-squares`, JSON.stringify({ end: 2_000_000_000 }), { ...json, 'x-timeout-ms': String(randomInt(1, 200)) })
    return [outcome(this.name, answer.status, [200, 504, ...BUSY])]
  }
}

const earlyDisconnects: Scenario = {
  name: 'early disconnects',
  weight: 2,
  async run (url) {
    const req = httpRequest(`${url}/v1/sum-of-squares`, { method: 'POST', headers: json })
    req.on('error', () => {})
    req.end(JSON.stringify({ end: 3_000_000_000, chunks: 2 }))
    await sleep(randomInt(0, 100))
    req.destroy()
    return [{ scenario: this.name, status: 'hung-up', expected: true }]
  }
}

const overloadBurst: Scenario = {
  name: 'overload bursts',
  weight: 1,
  async run (url) {
    // Far more work at once than the queue holds: the surplus must get 503 at once, not pile up.
    const answers = await Promise.all(Array.from({ length: 40 }, () => post(`${url}/v1/sum-of-squares`, JSON.stringify({ end: 50_000_000 }))))
    return answers.map((answer) => outcome(this.name, answer.status, [200, 503]))
  }
}

const faults: Scenario = {
  name: 'worker faults',
  weight: 1,
  needsFaults: true,
  async run (url) {
    const kind = (['throw', 'exit', 'oom'] as const)[randomInt(0, 2)]!
    const answer = await post(`${url}/v1/test-fault`, JSON.stringify({ kind }))
    return [outcome(this.name, answer.status, [500, ...BUSY], kind)]
  }
}

export const scenarios: Scenario[] = [validSumOfSquares, invalidRequests, uploads, invalidUploads, shortDeadlines, earlyDisconnects, overloadBurst, faults]

export function pick (available: Scenario[]): Scenario {
  const total = available.reduce((sum, scenario) => sum + scenario.weight, 0)
  let roll = Math.random() * total
  for (const scenario of available) {
    roll -= scenario.weight
    if (roll < 0) return scenario
  }
  return available.at(-1)!
}
