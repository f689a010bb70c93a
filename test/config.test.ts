import { availableParallelism } from 'node:os'
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../src/config.js'

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
      ENABLE_TEST_FAULTS: false
    })
  })

  it('parses values from strings and treats empty ones as unset', () => {
    const config = loadConfig({ PORT: '8080', POOL_THREADS: '3', EXECUTOR: 'inline', HOST: '', ENABLE_TEST_FAULTS: 'true', POOL_WORKER_NICE: '0', INLINE_MAX_TERMS: '0' })
    expect(config).toMatchObject({ PORT: 8080, POOL_THREADS: 3, EXECUTOR: 'inline', HOST: '0.0.0.0', ENABLE_TEST_FAULTS: true, POOL_WORKER_NICE: 0, INLINE_MAX_TERMS: 0 })
  })

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['POOL_THREADS', '0'],
    ['MAX_TERMS', '1.5'],
    ['MAX_TERMS', String(2 ** 53)],
    ['EXECUTOR', 'threads'],
    ['POOL_WORKER_NICE', '20'],
    ['POOL_WORKER_NICE', '-1'],
    ['INLINE_MAX_TERMS', '2000000'],
    ['LOG_LEVEL', 'loud']
  ])('fails fast naming %s when it is %j', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(`${name}=${JSON.stringify(value)}`))
  })

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', EXECUTOR: 'y' })).toThrow(/PORT=.*\n.*EXECUTOR=/)
  })
})
