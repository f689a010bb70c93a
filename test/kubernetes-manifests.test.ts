import { readdirSync, readFileSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import { Deployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { Service } from 'kubernetes-models/v1/Service'
import type { IContainer } from 'kubernetes-models/v1/Container'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import type { ZodObject } from 'zod'
import { configSchema, loadConfig, type Config } from '../src/config.js'
import { buildTestApp } from './helper.js'

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
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget
}

function only (key: keyof typeof models) {
  const found = manifests.filter(({ object }) => `${object.apiVersion} ${object.kind}` === key)
  if (found.length !== 1) throw new Error(`expected one ${key} in deploy/kubernetes/, found ${found.length}`)
  return found[0]!.object as never
}

const deployment = only('apps/v1 Deployment') as Deployment
const service = only('v1 Service') as Service
const autoscaler = only('autoscaling/v2 HorizontalPodAutoscaler') as HorizontalPodAutoscaler
const budget = only('policy/v1 PodDisruptionBudget') as PodDisruptionBudget
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

  it('exposes PORT as its one container port', () => {
    expect(container.ports?.map(({ containerPort }) => containerPort)).toEqual([config.PORT])
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
  beforeAll(async () => { app = await buildTestApp({ ...env, LOG_LEVEL: 'silent' }) })
  afterAll(async () => { await app.close() })
  const get = (url: string | undefined) => app.inject({ method: 'GET', url: url ?? '(no path)' })

  it('reach real routes that answer 200 while the service runs', async () => {
    expect((await get(container.readinessProbe?.httpGet?.path)).statusCode).toBe(200)
    expect((await get(container.livenessProbe?.httpGet?.path)).statusCode).toBe(200)
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

  it('route to the container port', () => {
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
