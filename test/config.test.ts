import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/platform/config.js'

describe('loadConfig', () => {
  it('has defaults for everything', () => {
    expect(loadConfig({})).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      POOL_THREADS: availableParallelism(),
      POOL_WORKER_NICE: 10,
      INLINE_MAX_TERMS: 20_000,
      MAX_TERMS: 10_000_000_000,
      EXECUTOR: 'pool',
      BODY_LIMIT_BYTES: 64 * 1024 * 1024,
      ENABLE_TEST_FAULTS: false,
      RATE_LIMIT_WINDOW_MS: 60_000,
      POOL_MAX_QUEUE_MS: availableParallelism() * 1000,
      WORKER_MAX_OLD_GENERATION_MB: 512,
      REQUEST_TIMEOUT_MS: 30_000,
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: 1000,
      SHUTDOWN_DRAIN_DELAY_MS: 0,
      SHUTDOWN_GRACE_MS: 10_000
    })
  })

  it('sizes the queue bound to the pool: a second of work per thread unless set', () => {
    expect(loadConfig({ POOL_THREADS: '3' }).POOL_MAX_QUEUE_MS).toBe(3000)
    expect(loadConfig({ POOL_THREADS: '3', POOL_MAX_QUEUE_MS: '0' }).POOL_MAX_QUEUE_MS).toBe(0)
  })

  it('refuses the old task-count POOL_MAX_QUEUE by name, saying what replaced it, rather than ignore it', () => {
    expect(() => loadConfig({ POOL_MAX_QUEUE: '16' })).toThrow(/POOL_MAX_QUEUE="16": no longer exists: .*POOL_MAX_QUEUE_MS/)
  })

  it('sizes jobs: 10^14 terms at most, chunks of 10^9, every pool thread but one for chunks', () => {
    expect(loadConfig({ POOL_THREADS: '4' })).toMatchObject({ JOB_MAX_TERMS: 1e14, JOB_CHUNK_TERMS: 1e9, JOBS_MAX_ACTIVE: 256, JOB_TTL_S: 3600, JOB_THREADS: 3, JOB_LOCK_MS: 10_000 })
    expect(loadConfig({ POOL_THREADS: '1' }).JOB_THREADS).toBe(1)
    expect(loadConfig({ POOL_THREADS: '4', JOB_THREADS: '4' }).JOB_THREADS).toBe(4)
    expect(() => loadConfig({ POOL_THREADS: '2', JOB_THREADS: '3' })).toThrow(/JOB_THREADS="3": must be at most POOL_THREADS/)
    // One bit per chunk is kept: a job may not be cut into more than 2^24 chunks.
    expect(() => loadConfig({ JOB_CHUNK_TERMS: '1000' })).toThrow(/JOB_CHUNK_TERMS="1000": must be at least JOB_MAX_TERMS/)
  })

  it('leaves API keys, rate limit and the separate metrics port off by default', () => {
    const { API_KEYS, RATE_LIMIT_MAX, METRICS_PORT } = loadConfig({})
    expect([API_KEYS, RATE_LIMIT_MAX, METRICS_PORT]).toEqual([undefined, undefined, undefined])
  })

  it('parses values from strings and treats empty ones as unset', () => {
    const config = loadConfig({ PORT: '8080', POOL_THREADS: '3', EXECUTOR: 'inline', HOST: '', ENABLE_TEST_FAULTS: 'true', BODY_LIMIT_BYTES: '1048576', POOL_WORKER_NICE: '0', INLINE_MAX_TERMS: '0' })
    expect(config).toMatchObject({ PORT: 8080, POOL_THREADS: 3, EXECUTOR: 'inline', HOST: '0.0.0.0', ENABLE_TEST_FAULTS: true, BODY_LIMIT_BYTES: 1048576, POOL_WORKER_NICE: 0, INLINE_MAX_TERMS: 0 })
  })

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['POOL_THREADS', '0'],
    ['MAX_TERMS', '1.5'],
    ['MAX_TERMS', String(2 ** 53)],
    ['EXECUTOR', 'threads'],
    ['BODY_LIMIT_BYTES', '64MiB'],
    ['BODY_LIMIT_BYTES', '4'],
    ['BODY_LIMIT_BYTES', String(256 * 1024 * 1024 + 1)],
    ['POOL_WORKER_NICE', '20'],
    ['POOL_WORKER_NICE', '-1'],
    ['INLINE_MAX_TERMS', '2000000'],
    ['LOG_LEVEL', 'loud'],
    ['RATE_LIMIT_MAX', '0'],
    ['RATE_LIMIT_WINDOW_MS', '999'],
    ['METRICS_PORT', '70000'],
    ['METRICS_PORT', '3000'],
    ['POOL_MAX_QUEUE_MS', '-1'],
    ['REQUEST_TIMEOUT_MS', '0'],
    ['WORKER_MAX_OLD_GENERATION_MB', '8'],
    ['SHUTDOWN_GRACE_MS', '50']
  ])('fails fast naming %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=${JSON.stringify(value)}`))
  })

  it('splits API_KEYS on commas, trimming each key and skipping empty ones', () => {
    expect(loadConfig({ API_KEYS: ' alpha-key-0123456789abcdef, bravo-key-0123456789abcdef,' }).API_KEYS)
      .toEqual(['alpha-key-0123456789abcdef', 'bravo-key-0123456789abcdef'])
  })

  it.each([
    ['a key shorter than 16 characters', 'alpha-key-0123456789abcdef,short'],
    ['a key that cannot travel as a bearer token', 'alpha key 0123456789abcdef'],
    ['no key at all', ' , ']
  ])('rejects API_KEYS with %s, without echoing the keys', (_case, value) => {
    expect(() => loadConfig({ API_KEYS: value })).toThrow(/API_KEYS=\[redacted\]/)
    expect(() => loadConfig({ API_KEYS: value })).not.toThrow(/alpha|short/)
  })

  it('takes the rate limit and the metrics port from strings', () => {
    expect(loadConfig({ RATE_LIMIT_MAX: '100', RATE_LIMIT_WINDOW_MS: '1000', METRICS_PORT: '9100' }))
      .toMatchObject({ RATE_LIMIT_MAX: 100, RATE_LIMIT_WINDOW_MS: 1000, METRICS_PORT: 9100 })
  })

  it('trusts no proxy unless TRUST_PROXY says which', () => {
    expect(loadConfig({}).TRUST_PROXY).toBe(false)
  })

  it.each([
    ['false', false],
    ['1', 1],
    ['2', 2],
    ['127.0.0.1', ['127.0.0.1']],
    [' 10.0.0.0/8, ::1,fd00::/8 ,', ['10.0.0.0/8', '::1', 'fd00::/8']],
    ['loopback,uniquelocal', ['loopback', 'uniquelocal']]
  ])('reads TRUST_PROXY=%j as %j', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected)
  })

  it('refuses TRUST_PROXY=true, which lets any client name its own address, and says what to set instead', () => {
    expect(() => loadConfig({ TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY="true".*every hop.*addresses or CIDRs.*number of proxies/)
  })

  it.each(['yes', '10.0.0.300', '10.0.0.0/33', 'proxy.internal', '127.0.0.1,somewhere', ',', '100'])('rejects TRUST_PROXY=%j, naming the entry', (value) => {
    expect(() => loadConfig({ TRUST_PROXY: value })).toThrow(new RegExp(`TRUST_PROXY=${JSON.stringify(value)}`))
  })

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', EXECUTOR: 'y' })).toThrow(/PORT=.*\n.*EXECUTOR=/)
  })
})
