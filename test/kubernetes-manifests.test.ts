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
import { buildTestApp, sample } from './helper.js'
import { startRedis, type RedisServer } from './support/redis-server.js'
import { freePort } from './support/server-process.js'
import { ScaledObject, type ScaledObjectData } from './support/scaled-object.js'

/** A directory as `kubectl apply -f` reads it (not its subdirectories): every document of every .yaml file. */
const read = (path: string) => {
  const directory = new URL(path, import.meta.url)
  return readdirSync(directory).filter((name) => name.endsWith('.yaml')).flatMap((name) =>
    parseAllDocuments(readFileSync(new URL(name, directory), 'utf8')).map((document) => {
      if (document.errors.length > 0) throw new Error(`${name}: ${document.errors.join('; ')}`)
      return { file: name, object: document.toJS() as { apiVersion: string, kind: string } }
    }))
}
const manifests = read('../deploy/kubernetes/')
/** Applied instead of keda.yaml where KEDA is not installed. */
const withoutKeda = read('../deploy/kubernetes/without-keda/')

const models: Record<string, new (data: never) => { validate (): void }> = {
  'apps/v1 Deployment': Deployment,
  'v1 Service': Service,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
  'keda.sh/v1alpha1 ScaledObject': ScaledObject
}

/** The one object of this kind and name (the service's own objects are named compute-service). */
function only (key: keyof typeof models, name = 'compute-service', from = manifests) {
  const found = from.filter(({ object }) => `${object.apiVersion} ${object.kind}` === key && (object as { metadata?: { name?: string } }).metadata?.name === name)
  if (found.length !== 1) throw new Error(`expected one ${key} named ${name} in deploy/kubernetes/${from === manifests ? '' : 'without-keda/'}, found ${found.length}`)
  return found[0]!.object as never
}

const deployment = only('apps/v1 Deployment') as Deployment
const service = only('v1 Service') as Service
const scaledObject = only('keda.sh/v1alpha1 ScaledObject') as ScaledObjectData
const cpuAutoscaler = only('autoscaling/v2 HorizontalPodAutoscaler', 'compute-service', withoutKeda) as HorizontalPodAutoscaler
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
  it.each([...manifests, ...withoutKeda.map(({ file, object }) => ({ file: `without-keda/${file}`, object }))].map(({ file, object }) => [file, object.kind, object] as const))('%s (%s) is a valid Kubernetes object of a known kind', (_file, _kind, object) => {
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

  it('serve every metric keda.yaml\'s query names, at /metrics on the port Prometheus scrapes', async () => {
    const query = scaledObject.spec.triggers.find(({ type }) => type === 'prometheus')!.metadata.query!
    const names = [...query.matchAll(/\b(compute_\w+)\b/g)].map((match) => match[1]!)
    expect(names.length).toBeGreaterThan(0)
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    for (const name of names) expect(sample(text, name, { queue: 'compute-chunks' }), name).toBeTypeOf('number')
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

  it('scale the Deployment, whose replica count one autoscaler owns alone', () => {
    expect(scaledObject.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name })
    expect(cpuAutoscaler.spec!.scaleTargetRef).toEqual(scaledObject.spec.scaleTargetRef)
    // KEDA refuses a ScaledObject whose Deployment another HPA scales; without it two HPAs would fight.
    expect(manifests.filter(({ object }) => object.kind === 'HorizontalPodAutoscaler'), 'an HPA next to keda.yaml').toEqual([])
    expect(withoutKeda.map(({ object }) => object.kind)).toEqual(['HorizontalPodAutoscaler'])
    expect(deployment.spec!.replicas, 'a replicas field is reset by every kubectl apply').toBeUndefined()
  })
})

describe('the KEDA ScaledObject (keda.yaml)', () => {
  const triggers = scaledObject.spec.triggers
  const chunks = triggers.find(({ type }) => type === 'prometheus')
  const query = chunks?.metadata.query ?? ''

  it('keeps the CPU target, replica bounds and scale-down window of the plain HPA it replaces', () => {
    const target = cpuAutoscaler.spec!.metrics!.find(({ type }) => type === 'Resource')!.resource!
    expect(target.name).toBe('cpu')
    expect(triggers).toContainEqual({ type: 'cpu', metricType: 'Utilization', metadata: { value: String(target.target.averageUtilization) } })
    expect([scaledObject.spec.minReplicaCount, scaledObject.spec.maxReplicaCount]).toEqual([cpuAutoscaler.spec!.minReplicas, cpuAutoscaler.spec!.maxReplicas])
    expect(scaledObject.spec.advanced?.horizontalPodAutoscalerConfig?.behavior).toEqual(cpuAutoscaler.spec!.behavior)
    // The CPU trigger is a Utilization of the request: KEDA refuses it on a container without one.
    expect(container.resources?.requests?.cpu).toBeDefined()
  })

  it('scales on chunks queued and running, taken once (max) since every pod reads the same queue', () => {
    expect(chunks?.metricType).toBe('AverageValue')
    expect(query).toMatch(/^max\(/)
    expect(query).not.toMatch(/\bsum\b/)
    expect(query).toContain('compute_job_chunks_waiting')
    expect(query).toContain('compute_job_chunks_running')
    // No pod able to read the queue is not "no work": an error, on which the HPA does not scale down.
    expect(chunks?.metadata.ignoreNullValues).toBe('false')
    // A fallback count would replace the CPU trigger's count too while Prometheus is away.
    expect(scaledObject.spec.fallback).toBeUndefined()
  })

  it('wants one pod per JOB_THREADS chunks: the chunks one pod runs at once', () => {
    expect(Number(chunks?.metadata.threshold)).toBe(loadConfig(env).JOB_THREADS)
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
