import { readdirSync, readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { Service } from 'kubernetes-models/v1/Service'
import type { IContainer } from 'kubernetes-models/v1/Container'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import type { ZodObject } from 'zod'
import { configSchema, loadConfig, type Config } from '../src/platform/config.js'
import { buildTestApp } from './helper.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { freePort } from './support/server-process.js'

/** deploy/kubernetes/ as `kubectl apply -f` reads it: every document of every .yaml file. */
const directory = new URL('../deploy/kubernetes/', import.meta.url)
const manifests = readdirSync(directory).filter((name) => name.endsWith('.yaml')).flatMap((name) =>
  parseAllDocuments(readFileSync(new URL(name, directory), 'utf8')).map((document) => {
    if (document.errors.length > 0) throw new Error(`${name}: ${document.errors.join('; ')}`)
    return { file: name, object: document.toJS() as { apiVersion: string, kind: string } }
  }))

const models: Record<string, new (data: never) => { validate (): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy
}

/** The one object of this kind and name (the service's own objects are named compute-service). */
function only (key: keyof typeof models, name = 'compute-service') {
  const found = manifests.filter(({ object }) => `${object.apiVersion} ${object.kind}` === key && (object as { metadata?: { name?: string } }).metadata?.name === name)
  if (found.length !== 1) throw new Error(`expected one ${key} named ${name} in deploy/kubernetes/, found ${found.length}`)
  return found[0]!.object as never
}

const deployment = only('apps/v1 Deployment') as Deployment
const service = only('v1 Service') as Service
const autoscaler = only('autoscaling/v2 HorizontalPodAutoscaler') as HorizontalPodAutoscaler
const budget = only('policy/v1 PodDisruptionBudget') as PodDisruptionBudget
const redisDeployment = only('apps/v1 Deployment', 'compute-service-redis') as Deployment
const redisService = only('v1 Service', 'compute-service-redis') as Service
const redisPolicy = only('networking.k8s.io/v1 NetworkPolicy', 'compute-service-redis') as NetworkPolicy
const pod = deployment.spec!.template.spec!
const container: IContainer = pod.containers[0]!
const env = Object.fromEntries((container.env ?? []).map(({ name, value }) => [name, value]))

// An object schema strips names it does not know, so parsing cannot catch a misspelt variable: compare
// against the schema's keys (of its input side, should the schema end in a transform).
const configObject = ('in' in configSchema ? configSchema.in : configSchema) as ZodObject
const configVariables = Object.keys(configObject.shape)

/** A named or numbered container port, as probes and Services refer to it. */
function containerPort (port: number | string | undefined) {
  return typeof port === 'number' ? port : container.ports?.find(({ name }) => name === port)?.containerPort
}

/** Kubernetes memory quantities: "512Mi", "1Gi", or bytes. */
function bytes (quantity: string | number | undefined) {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity))
  if (match === null) throw new Error(`not a memory quantity: ${quantity}`)
  return Number(match[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[match[2] ?? ''] ?? 1)
}

/** RSS of the service idle with 2 threads (measured ~105 MiB), with slack: what the upload budget and worker heaps come on top of. */
const BASELINE_RSS = 160 * 1024 ** 2

/** Kubernetes CPU quantities: "2", "1.5" or "1500m". */
function cores (quantity: string | number | undefined) {
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(String(quantity))
  if (match === null) throw new Error(`not a CPU quantity: ${quantity}`)
  return Number(match[1]) / (match[2] === 'm' ? 1000 : 1)
}

describe('every manifest', () => {
  it.each(manifests.map(({ file, object }) => [file, object.kind, object] as const))('%s (%s) is a valid Kubernetes object of a known kind', (_file, _kind, object) => {
    const Model = models[`${object.apiVersion} ${object.kind}`]
    expect(Model, `${object.apiVersion} ${object.kind}`).toBeDefined()
    expect(() => new Model!(object as never).validate()).not.toThrow()
  })
})

describe('the Deployment environment', () => {
  it('names only variables the config schema accepts', () => {
    expect(Object.keys(env).filter((name) => !configVariables.includes(name))).toEqual([])
  })

  it('holds values the config accepts', () => {
    expect(() => loadConfig(env)).not.toThrow()
  })
})

describe('the Deployment, checked against the config it sets', () => {
  let config: Config
  beforeAll(() => { config = loadConfig(env) })

  it('exposes PORT for the API and METRICS_PORT for Prometheus, and nothing else', () => {
    expect(container.ports?.map(({ name, containerPort }) => [name, containerPort])).toEqual([['http', config.PORT], ['metrics', config.METRICS_PORT]])
  })

  it('asks Prometheus to scrape /metrics on METRICS_PORT', () => {
    expect(deployment.spec!.template.metadata!.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.METRICS_PORT),
      'prometheus.io/path': '/metrics'
    })
  })

  it('requests one CPU per pool thread', () => {
    expect(cores(container.resources?.requests?.cpu)).toBe(config.POOL_THREADS)
  })

  it('gives the memory limit room for the upload budget, both worker heaps and the baseline', () => {
    const limit = bytes(container.resources?.limits?.memory)
    const workerHeaps = config.POOL_THREADS * config.WORKER_MAX_OLD_GENERATION_MB * 1024 ** 2
    expect(limit).toBeGreaterThanOrEqual(config.UPLOAD_MEMORY_MAX_BYTES + workerHeaps + BASELINE_RSS)
  })

  it('lets the service drain and finish its work before the kubelet kills it', () => {
    expect(config.SHUTDOWN_DRAIN_DELAY_MS, 'time for endpoint removal to propagate').toBeGreaterThan(0)
    expect(pod.terminationGracePeriodSeconds! * 1000).toBeGreaterThan(config.SHUTDOWN_DRAIN_DELAY_MS + config.SHUTDOWN_GRACE_MS)
  })

  it('probes the container port', () => {
    expect(containerPort(container.readinessProbe?.httpGet?.port)).toBe(config.PORT)
    expect(containerPort(container.livenessProbe?.httpGet?.port)).toBe(config.PORT)
  })
})

describe('the Deployment probes, against the app built from its environment', () => {
  let app: FastifyInstance
  let redis: RedisServer
  let metricsPort: number
  beforeAll(async () => {
    // The metrics listener opens on a free loopback port here, not on the manifest's.
    metricsPort = await freePort()
    // The manifest's Redis is a service name; a throwaway Redis stands in for it on loopback.
    redis = await startRedis()
    app = await buildTestApp({ ...env, METRICS_PORT: String(metricsPort), REDIS_URL: redis.url, HOST: '127.0.0.1', LOG_LEVEL: 'silent' })
  })
  afterAll(async () => { await app.close(); await redis.stop() })
  const get = (url: string | undefined) => app.inject({ method: 'GET', url: url ?? '(no path)' })

  it('reach real routes that answer 200 while the service runs', async () => {
    expect((await get(container.readinessProbe?.httpGet?.path)).statusCode).toBe(200)
    expect((await get(container.livenessProbe?.httpGet?.path)).statusCode).toBe(200)
  })

  it('find /metrics on the metrics port only: 404 on the public one', async () => {
    expect((await get('/metrics')).statusCode).toBe(404)
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status).toBe(200)
  })

  it('keep the pod ready while its queue is full: that is a 503 per request, not a reason to lose the endpoint', async () => {
    // Fill the queue for real: long sums, each ended by its own short deadline.
    const refusal = new Promise((resolve) => {
      const stop = app.executor.on((event) => { if (event.type === 'task-rejected') { stop(); resolve(event) } })
    })
    const replies = Array.from({ length: 40 }, () => app.inject({
      method: 'POST',
      url: '/v1/sum-of-squares',
      headers: { 'content-type': 'application/json', 'x-timeout-ms': '3000' },
      payload: { end: 9_000_000_000, chunks: 2 }
    }))
    expect(await refusal).toMatchObject({ reason: 'queue-full' })
    expect(app.executor.stats().saturated).toBe(true)
    expect((await get(container.readinessProbe?.httpGet?.path)).statusCode).toBe(200)
    expect((await Promise.all(replies)).map((reply) => reply.statusCode)).toContain(503)
  })

  it('turn readiness, and only readiness, to failing while the service drains', async () => {
    app.drain()
    expect((await get(container.readinessProbe?.httpGet?.path)).statusCode).toBe(503)
    // A failing liveness probe would restart a pod that is shutting down cleanly.
    expect((await get(container.livenessProbe?.httpGet?.path)).statusCode).toBe(200)
  })
})

describe('the Deployment security context', () => {
  it('runs as the image\'s unprivileged node user, which runAsNonRoot can check by uid', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 })
  })

  it('cannot gain privileges or capabilities, or write to its root file system', () => {
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] }
    })
  })
})

describe('the Service, the autoscaler and the disruption budget', () => {
  const podLabels = deployment.spec!.template.metadata!.labels!

  it('route to the API port only, never to the metrics port', () => {
    expect(service.spec!.ports!.map(({ targetPort }) => containerPort(targetPort))).toEqual([loadConfig(env).PORT])
  })

  it('select the Deployment\'s pods', () => {
    expect(podLabels).toMatchObject(service.spec!.selector!)
    expect(podLabels).toMatchObject(budget.spec!.selector!.matchLabels!)
    expect(podLabels).toMatchObject(deployment.spec!.selector.matchLabels!)
  })

  it('scale the Deployment on CPU, which owns its replica count alone', () => {
    expect(autoscaler.spec!.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name })
    expect(autoscaler.spec!.metrics).toContainEqual(expect.objectContaining({ type: 'Resource', resource: expect.objectContaining({ name: 'cpu' }) }))
    expect(deployment.spec!.replicas, 'a replicas field is reset by every kubectl apply').toBeUndefined()
  })
})

describe('the Redis the pods share', () => {
  const redisPod = redisDeployment.spec!.template
  const redisContainer = redisPod.spec!.containers[0]!
  const url = new URL(loadConfig(env).REDIS_URL!)

  it('is what REDIS_URL names: its Service, on its port', () => {
    expect(url.hostname).toBe(redisService.metadata!.name)
    expect(redisService.spec!.ports!.map(({ port }) => String(port))).toEqual([url.port || '6379'])
    const target = redisService.spec!.ports![0]!.targetPort
    expect(redisContainer.ports!.find(({ name }) => name === target)?.containerPort).toBe(6379)
    expect(redisPod.metadata!.labels).toMatchObject(redisService.spec!.selector!)
  })

  it('is one pod, replaced rather than doubled, so there is one count', () => {
    expect(redisDeployment.spec!.replicas).toBe(1)
    expect(redisDeployment.spec!.strategy?.type).toBe('Recreate')
  })

  it('takes connections from the service\'s pods only', () => {
    expect(redisPod.metadata!.labels).toMatchObject(redisPolicy.spec!.podSelector.matchLabels!)
    const from = redisPolicy.spec!.ingress![0]!.from![0]!.podSelector!.matchLabels!
    expect(deployment.spec!.template.metadata!.labels).toMatchObject(from)
    expect(redisPolicy.spec!.ingress![0]!.ports).toEqual([{ port: redisService.spec!.ports![0]!.targetPort }])
  })

  it('runs unprivileged on a read-only root file system, writing to its own volume', () => {
    expect(redisPod.spec!.securityContext).toMatchObject({ runAsNonRoot: true })
    expect(redisContainer.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } })
    expect(redisContainer.volumeMounts).toEqual([{ name: 'data', mountPath: '/data' }])
  })
})
