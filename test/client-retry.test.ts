import { describe, expect, it } from 'vitest'
import { retryAfterMs, retryingFetch } from '../client/retry.js'

/** A fetch that answers from a list, counting the requests it saw. */
function answering (...answers: Array<[number, Record<string, string>?]>) {
  const seen: Request[] = []
  const fetch = async (request: Request) => {
    seen.push(request)
    const [status, headers] = answers[Math.min(seen.length - 1, answers.length - 1)]!
    return new Response(status === 200 ? '{"ok":true}' : '{}', { status, headers })
  }
  return { fetch, seen }
}

const post = () => new Request('http://127.0.0.1:1/v1/jobs', { method: 'POST', body: '{"task":"sum"}' })

describe('the client\'s retries (client/retry.ts)', () => {
  it('retries a 503 and a 429 after their Retry-After, resending the body', async () => {
    const service = answering([503, { 'retry-after': '0' }], [429, { 'retry-after': '0' }], [200])
    const response = await retryingFetch({ fetch: service.fetch })(post())
    expect(response.status).toBe(200)
    expect(service.seen).toHaveLength(3)
    expect(await service.seen[2]!.text()).toBe('{"task":"sum"}')
  })

  it('answers at once without Retry-After (a replica shutting down), past the retries, or past maxDelayMs', async () => {
    const bare = answering([503])
    expect((await retryingFetch({ fetch: bare.fetch })(post())).status).toBe(503)
    expect(bare.seen).toHaveLength(1)
    const always = answering([503, { 'retry-after': '0' }])
    expect((await retryingFetch({ fetch: always.fetch, retries: 2 })(post())).status).toBe(503)
    expect(always.seen).toHaveLength(3)
    const long = answering([429, { 'retry-after': '60' }])
    expect((await retryingFetch({ fetch: long.fetch, maxDelayMs: 10_000 })(post())).status).toBe(429)
    expect(long.seen).toHaveLength(1)
  })

  it('never retries another status', async () => {
    const service = answering([500, { 'retry-after': '0' }])
    expect((await retryingFetch({ fetch: service.fetch })(post())).status).toBe(500)
    expect(service.seen).toHaveLength(1)
  })

  it('stops waiting when the request is aborted', async () => {
    const service = answering([503, { 'retry-after': '5' }])
    const abort = new AbortController()
    const request = new Request('http://127.0.0.1:1/v1/sum', { signal: abort.signal })
    const pending = retryingFetch({ fetch: service.fetch })(request)
    abort.abort(new Error('gave up'))
    await expect(pending).rejects.toThrow('gave up')
    expect(service.seen).toHaveLength(1)
  })

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('3')).toBe(3000)
    expect(retryAfterMs('Wed, 21 Oct 2026 07:28:05 GMT', Date.parse('Wed, 21 Oct 2026 07:28:00 GMT'))).toBe(5000)
    expect(retryAfterMs(null)).toBeUndefined()
    expect(retryAfterMs('soon')).toBeUndefined()
  })
})
