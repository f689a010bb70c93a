import { request } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { until } from '../support/jobs.js'
import { startRedis, type RedisServer } from '../support/redis-server.js'
import { startReplicaSet, type ReplicaSet } from '../support/replica-set.js'

const LIMIT = 10
const WINDOW_MS = 5000

interface Answer { status: number, retryAfterS: number }

/** One POST /v1/sum-of-squares through the balancer from the local address `from` (any 127.x.y.z is this machine). */
function post (url: string, from: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/sum-of-squares`, { method: 'POST', localAddress: from, agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode!, retryAfterS: Number(res.headers['retry-after'] ?? 0) }))
    })
    req.on('error', reject)
    req.end(JSON.stringify({ end: 1000 }))
  })
}

/** `count` requests from `from`, three at a time. */
async function burst (url: string, from: string, count: number, headers: Record<string, string> = {}) {
  const answers: Answer[] = []
  let started = 0
  const worker = async () => {
    while (started < count) {
      started++
      answers.push(await post(url, from, headers))
    }
  }
  await Promise.all([worker(), worker(), worker()])
  return answers
}

const statusCounts = (answers: Answer[]) => answers.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {})

describe(`one rate limit across three replicas behind HAProxy (RATE_LIMIT_MAX=${LIMIT}, REDIS_URL, TRUST_PROXY)`, () => {
  let redis: RedisServer
  let set: ReplicaSet
  beforeAll(async () => {
    redis = await startRedis()
    set = await startReplicaSet({
      POOL_THREADS: '1',
      RATE_LIMIT_MAX: String(LIMIT),
      RATE_LIMIT_WINDOW_MS: String(WINDOW_MS),
      REDIS_URL: redis.url,
      // HAProxy connects from 127.0.0.1 and appends the client's address to X-Forwarded-For.
      TRUST_PROXY: '127.0.0.1',
      LOG_LEVEL: 'info'
    })
  })
  afterAll(async () => {
    await set?.stop()
    await redis?.stop()
  })

  /** 200s each replica has answered so far, from its own log. */
  const servedOk = () => set.replicas.map((replica) => replica.logs.filter((line) => line.msg === 'request completed' && line.statusCode === 200).length)

  it(`allows exactly ${LIMIT} requests per window in all, wherever the balancer sends them`, async () => {
    const windows = []
    for (let window = 0; window < 2; window++) {
      const before = servedOk()
      const answers = await burst(set.balancer.url, '127.0.0.2', 3 * LIMIT)
      // Access lines go through pino's asynchronous destination: wait until every 200 has been written.
      const perReplica = await until(async () => {
        const counts = servedOk().map((count, i) => count - before[i]!)
        return counts.reduce((sum, count) => sum + count, 0) >= LIMIT ? counts : undefined
      }, 5000)
      windows.push({ statuses: statusCounts(answers), okPerReplica: perReplica })
      expect(statusCounts(answers)).toEqual({ 200: LIMIT, 429: 2 * LIMIT })
      expect(perReplica.filter((count) => count > 0).length, 'more than one replica served the allowed requests').toBeGreaterThan(1)
      // The next window opens when the 429s say so.
      await sleep(Math.max(...answers.map(({ retryAfterS }) => retryAfterS)) * 1000 + 200)
    }
    console.log(`\n[replicas] shared rate limit, ${3 * LIMIT} requests per window from one client\n${JSON.stringify(windows)}`)
  })

  it('limits two clients behind the balancer separately, and believes no client about who it is', async () => {
    const [alice, bob, mallory] = ['127.0.0.3', '127.0.0.4', '127.0.0.5']
    const [fromAlice, fromBob] = await Promise.all([burst(set.balancer.url, alice, 2 * LIMIT), burst(set.balancer.url, bob, 2 * LIMIT)])
    // Mallory claims to be Alice, whose budget is spent: the balancer appends Mallory's real address, which is the one counted.
    const fromMallory = await burst(set.balancer.url, mallory, LIMIT, { 'x-forwarded-for': alice })
    console.log(`\n[replicas] two clients behind the balancer\n${JSON.stringify({ alice: statusCounts(fromAlice), bob: statusCounts(fromBob), malloryAsAlice: statusCounts(fromMallory) })}`)
    expect(statusCounts(fromAlice)).toEqual({ 200: LIMIT, 429: LIMIT })
    expect(statusCounts(fromBob)).toEqual({ 200: LIMIT, 429: LIMIT })
    expect(statusCounts(fromMallory)).toEqual({ 200: LIMIT })
  })

  it('keeps a client that writes a new X-Forwarded-For on every request to one budget', async () => {
    let next = 0
    const rotating = () => ({ 'x-forwarded-for': `198.51.100.${1 + (next++ % 250)}` })
    const answers: Answer[] = []
    for (let i = 0; i < 2 * LIMIT; i++) answers.push(await post(set.balancer.url, '127.0.0.6', rotating()))
    console.log(`\n[replicas] one client rotating X-Forwarded-For\n${JSON.stringify(statusCounts(answers))}`)
    expect(statusCounts(answers)).toEqual({ 200: LIMIT, 429: LIMIT })
  })
})
