import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { ZodObject } from 'zod'
import { TERMS_PER_MS } from '../src/compute/sum-of-squares.js'
import { configSchema, loadConfig } from '../src/platform/config.js'
import { buildTestApp } from './helper.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { freePort } from './support/server-process.js'
import { haproxyConfig, REPLICA_NAMES } from './support/haproxy.js'

/** deploy/compose.yaml as Compose reads it (aliases resolved) and the HAProxy config it mounts. */
const composeFile = new URL('../deploy/compose.yaml', import.meta.url)
const compose = parse(readFileSync(composeFile, 'utf8')) as { services: Record<string, Service> }
const haproxy = readFileSync(haproxyConfig, 'utf8')

interface Service {
  image?: string
  build?: string
  command?: string[]
  environment?: Record<string, string>
  ports?: string[]
  expose?: string[]
  volumes?: string[]
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
  stop_grace_period?: string
}

const services = compose.services
const replicas = REPLICA_NAMES.map((name) => services[name]!)
const env = replicas[0]!.environment!
const configObject = ('in' in configSchema ? configSchema.in : configSchema) as ZodObject

/** A directive's arguments in haproxy.cfg, e.g. setting('timeout server') → '35s'. */
function setting (directive: string): string {
  const match = new RegExp(`^\\s*${directive}\\s+(.+)$`, 'm').exec(haproxy)
  if (match === null) throw new Error(`no "${directive}" in haproxy.cfg`)
  return match[1]!.trim()
}
/** HAProxy durations: "300ms", "2s", "1m". */
function ms (value: string): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(value)
  if (match === null) throw new Error(`not a duration: ${value}`)
  return Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[match[2] ?? 'ms']!
}
const serverDefaults = setting('default-server')
/** An option of every server line, e.g. serverOption('inter') → '300ms' (not fastinter's). */
const serverOption = (name: string) => new RegExp(`\\s${name}\\s+(\\S+)`).exec(` ${serverDefaults}`)?.[1]
/** `${NAME-default}`: what HAProxy uses when the variable is unset, as under Compose. */
const defaultOf = (expansion: string) => /^"\$\{\w+-(.+)\}"$/.exec(expansion)?.[1]
const containerPort = (mapping: string) => Number(mapping.split(':').at(-1))

describe('deploy/compose.yaml', () => {
  it('runs HAProxy, three replicas and Redis, and nothing else', () => {
    expect(Object.keys(services).sort()).toEqual(['haproxy', 'redis', ...REPLICA_NAMES].sort())
  })

  it('builds the replicas from the repository\'s Dockerfile, all three alike', () => {
    const context = fileURLToPath(new URL(replicas[0]!.build!, composeFile))
    expect(existsSync(`${context}/Dockerfile`)).toBe(true)
    for (const replica of replicas) expect(replica).toEqual(replicas[0])
  })

  it('sets only variables the config schema has, with values it accepts', () => {
    expect(Object.keys(env).filter((name) => !(name in configObject.shape))).toEqual([])
    expect(() => loadConfig(env)).not.toThrow()
  })

  it('publishes no replica port, so every request comes through HAProxy, the one hop TRUST_PROXY trusts', () => {
    for (const replica of replicas) expect(replica.ports).toBeUndefined()
    expect(loadConfig(env).TRUST_PROXY).toBe(1)
    expect(haproxy).toMatch(/^\s*option forwardfor\s*$/m)
  })

  it('exposes PORT and METRICS_PORT inside the network', () => {
    const config = loadConfig(env)
    expect(replicas[0]!.expose!.map(Number).sort()).toEqual([config.PORT, config.METRICS_PORT].sort())
  })

  it('points REDIS_URL at the Redis service', () => {
    const url = new URL(env.REDIS_URL!)
    expect(url.hostname).toBe('redis')
    expect(services.redis!.expose).toEqual([url.port || '6379'])
    for (const replica of replicas) expect(replica.depends_on?.redis).toEqual({ condition: 'service_healthy' })
  })

  it('gives a replica longer to stop than it takes to drain and finish its work', () => {
    const config = loadConfig(env)
    expect(ms(replicas[0]!.stop_grace_period!)).toBeGreaterThan(config.SHUTDOWN_DRAIN_DELAY_MS + config.SHUTDOWN_GRACE_MS)
  })

  it('health-checks the replicas on their own port and Redis with PING, and starts HAProxy once the replicas are healthy', () => {
    expect(replicas[0]!.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${loadConfig(env).PORT}/health/ready`)
    expect(services.redis!.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping'])
    expect(services.haproxy!.depends_on).toEqual(Object.fromEntries(REPLICA_NAMES.map((name) => [name, { condition: 'service_healthy' }])))
  })
})

describe('deploy/compose.yaml and deploy/haproxy/haproxy.cfg together', () => {
  it('mounts the config where the haproxy image reads it', () => {
    const [source, target] = services.haproxy!.volumes![0]!.split(':')
    expect(fileURLToPath(new URL(source!, composeFile))).toBe(haproxyConfig)
    expect(target).toBe('/usr/local/etc/haproxy/haproxy.cfg')
  })

  it('publishes the ports HAProxy binds by default', () => {
    const binds = [...haproxy.matchAll(/^\s*bind\s+(\S+)/gm)].map((match) => defaultOf(match[1]!)!)
    expect(services.haproxy!.ports!.map(containerPort).sort()).toEqual(binds.map(containerPort).sort())
  })

  it('sends traffic to each replica service by name, on its PORT', () => {
    const servers = [...haproxy.matchAll(/^\s*server\s+(\S+)\s+(\S+)/gm)].map(([, name, address]) => [name, defaultOf(address!)])
    expect(servers).toEqual(REPLICA_NAMES.map((name, i) => [name, `${name}:${loadConfig(replicas[i]!.environment).PORT}`]))
  })

  it('takes a draining replica out before it stops listening', () => {
    const windowMs = ms(serverOption('inter')!) * Number(serverOption('fall'))
    expect(windowMs).toBeLessThan(loadConfig(env).SHUTDOWN_DRAIN_DELAY_MS)
  })

  it('waits longer for an answer than the service\'s own deadline, so its 504 reaches the client', () => {
    expect(ms(setting('timeout server'))).toBeGreaterThan(loadConfig(env).REQUEST_TIMEOUT_MS)
  })

  it('lets enough heavy requests reach a replica to fill its queue, so a full replica answers its own 503', () => {
    // The overload test's requests (10^8 terms): a replica holds one per thread running, and refuses
    // more once POOL_MAX_QUEUE_MS of estimated work waits.
    const config = loadConfig(env)
    const costMs = 100_000_000 / TERMS_PER_MS
    expect(Number(serverOption('maxconn'))).toBeGreaterThan(config.POOL_THREADS + config.POOL_MAX_QUEUE_MS / costMs)
  })
})

describe('the HAProxy health check, against the app built from the replicas\' environment', () => {
  let app: FastifyInstance
  let redis: RedisServer
  const check = /meth (\S+) uri (\S+)/.exec(setting('http-check send'))!
  const expected = Number(/^status (\d+)$/.exec(setting('http-check expect'))![1])
  beforeAll(async () => {
    // The metrics listener goes to a free loopback port rather than the real one, and a throwaway
    // Redis on loopback stands in for the compose service named in REDIS_URL.
    redis = await startRedis()
    app = await buildTestApp({ ...env, METRICS_PORT: String(await freePort()), REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: 'silent' })
  })
  afterAll(async () => { await app?.close(); await redis?.stop() })

  it('reaches a real route that passes while the replica runs, and fails once it drains', async () => {
    expect((await app.inject({ method: check[1] as 'GET', url: check[2]! })).statusCode).toBe(expected)
    app.drain()
    expect((await app.inject({ method: check[1] as 'GET', url: check[2]! })).statusCode).toBe(503)
  })
})
