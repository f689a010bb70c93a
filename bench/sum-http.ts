import { Agent, request } from 'node:http'
import { performance } from 'node:perf_hooks'
import { startServer } from '../test/support/server-process.js'
import { formatTable, medianMs } from './measure.js'
import { MiB, makeValues } from './sum-data.js'

const agent = new Agent({ keepAlive: true })

function post (url: string, contentType: string, body: Buffer): Promise<{ elapsedMs: number, count: number }> {
  return new Promise((resolve, reject) => {
    const client = request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.length } }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { text += chunk })
      response.on('end', () => {
        if (response.statusCode !== 200) return reject(new Error(`${response.statusCode}: ${text}`))
        resolve(JSON.parse(text))
      })
    })
    client.on('error', reject)
    client.end(body)
  })
}

/** Longest /probe round trip while `work` runs: how long the server's event loop went unanswered. */
async function longestProbeDuring (probeUrl: string, work: Promise<unknown>): Promise<number> {
  const state = { done: false }
  const finished = work.finally(() => { state.done = true })
  let longest = 0
  while (!state.done) {
    const started = performance.now()
    await new Promise<void>((resolve, reject) => {
      request(probeUrl, { agent }, (response) => { response.resume(); response.on('end', resolve) }).on('error', reject).end()
    })
    longest = Math.max(longest, performance.now() - started)
  }
  await finished
  return longest
}

/** The longest prefix of `values` whose JSON body stays within `limit` bytes. */
function jsonBody (values: Float64Array, limit: number): { body: Buffer, count: number } {
  let count = values.length
  for (;;) {
    const body = Buffer.from(JSON.stringify({ values: Array.from(values.subarray(0, count)) }))
    if (body.length <= limit) return { body, count }
    count = Math.floor(count * limit / body.length * 0.995)
  }
}

/**
 * Whole requests over loopback to the real server (2 worker threads), client on the same 2 cores:
 * upload, parse, hand-off, sum and answer. Target: at least 400 MB/s for a 64 MiB octet-stream body
 * in exact mode. The last column is the longest round trip of /probe requests sent back to back during three
 * of the requests: how long the server's event loop went unanswered (JSON.parse of the body, for JSON).
 * The probing client shares the 2 cores, so scheduling adds to it.
 */
export async function sumHttpBench (): Promise<string> {
  // JSON bodies up to 64 MiB, with the upload memory a 16x JSON reservation needs: the default 1 MiB
  // JSON limit would refuse the JSON rows, whose cost is why that default is small.
  const server = await startServer({
    LOG_LEVEL: 'warn',
    POOL_THREADS: '2',
    JSON_BODY_LIMIT_BYTES: String(64 * MiB),
    UPLOAD_MEMORY_MAX_BYTES: String(2048 * MiB),
    UPLOAD_MEMORY_PER_CLIENT_BYTES: String(2048 * MiB)
  })
  const url = `${server.url}/v1/sum`
  const rows: string[][] = []
  const row = async (name: string, query: string, contentType: string, body: Buffer, count: number, runs: number) => {
    let serverMs: number[] = []
    const ms = await medianMs(runs, () => undefined, async () => {
      const reply = await post(url + query, contentType, body)
      if (reply.count !== count) throw new Error(`expected ${count} values, server counted ${reply.count}`)
      serverMs.push(reply.elapsedMs)
    })
    serverMs = serverMs.slice(2).sort((a, b) => a - b)
    const stalls: number[] = []
    for (let i = 0; i < 3; i++) stalls.push(await longestProbeDuring(`${server.url}/probe`, post(url + query, contentType, body)))
    rows.push([name, (body.length / MiB).toFixed(1), count.toLocaleString('en-US'), ms.toFixed(1),
      (body.length / 1e6 / (ms / 1e3)).toFixed(0), (count / 1e6 / (ms / 1e3)).toFixed(1), serverMs[Math.floor(serverMs.length / 2)]!.toFixed(1),
      Math.max(...stalls).toFixed(1)])
  }
  try {
    const values = makeValues(8 * MiB, 'wide')
    const binary = Buffer.from(values.buffer)
    const small = binary.subarray(0, 8 * MiB)
    await row('octet-stream, exact', '', 'application/octet-stream', small, MiB, 15)
    await row('octet-stream, exact', '', 'application/octet-stream', binary, 8 * MiB, 9)
    await row('octet-stream, fast', '?mode=fast', 'application/octet-stream', binary, 8 * MiB, 9)
    const json1m = jsonBody(values.subarray(0, MiB), Infinity)
    await row('JSON, exact', '', 'application/json', json1m.body, json1m.count, 7)
    const jsonMax = jsonBody(values, 64 * MiB)
    await row('JSON, exact, up to the 64 MiB limit', '', 'application/json', jsonMax.body, jsonMax.count, 5)
  } finally {
    agent.destroy()
    await server.stop()
  }
  return formatTable(['POST /v1/sum over loopback', 'body MiB', 'values', 'median ms', 'MB/s of body', 'M values/s', 'server elapsedMs (after upload)', 'longest /probe round trip during it, ms'], rows)
}
