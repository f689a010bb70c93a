import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler'
import type { IHorizontalPodAutoscalerBehavior } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior'
import { z } from 'zod'

/**
 * KEDA's ScaledObject (keda.sh/v1alpha1), the fields of its CRD this repository may use, for the
 * manifests test: kubernetes-models has no KEDA kinds. Strict, as `kubectl apply` (strict field
 * validation) is about unknown fields; trigger metadata values must be strings, as in the CRD.
 */
const scaledObjectSchema = z.strictObject({
  apiVersion: z.literal('keda.sh/v1alpha1'),
  kind: z.literal('ScaledObject'),
  metadata: z.object({ name: z.string().min(1), labels: z.record(z.string(), z.string()).optional(), annotations: z.record(z.string(), z.string()).optional() }),
  spec: z.strictObject({
    scaleTargetRef: z.strictObject({ apiVersion: z.string().optional(), kind: z.string().optional(), name: z.string().min(1), envSourceContainerName: z.string().optional() }),
    pollingInterval: z.int().positive().optional(),
    cooldownPeriod: z.int().nonnegative().optional(),
    initialCooldownPeriod: z.int().nonnegative().optional(),
    idleReplicaCount: z.int().nonnegative().optional(),
    minReplicaCount: z.int().nonnegative().optional(),
    maxReplicaCount: z.int().positive().optional(),
    fallback: z.strictObject({ failureThreshold: z.int().positive(), replicas: z.int().nonnegative() }).optional(),
    advanced: z.strictObject({
      restoreToOriginalReplicaCount: z.boolean().optional(),
      horizontalPodAutoscalerConfig: z.strictObject({ name: z.string().optional(), behavior: z.record(z.string(), z.unknown()).optional() }).optional()
    }).optional(),
    triggers: z.array(z.strictObject({
      type: z.string().min(1),
      name: z.string().optional(),
      metricType: z.enum(['AverageValue', 'Value', 'Utilization']).optional(),
      useCachedMetrics: z.boolean().optional(),
      metadata: z.record(z.string(), z.string()),
      authenticationRef: z.strictObject({ name: z.string(), kind: z.string().optional() }).optional()
    })).min(1)
  })
})

export type ScaledObjectData = z.infer<typeof scaledObjectSchema>

/** A model with kubernetes-models' shape: `new ScaledObject(data).validate()` throws on what KEDA's CRD would refuse. */
export class ScaledObject {
  constructor (readonly data: unknown) {}

  validate (): void {
    const object = scaledObjectSchema.parse(this.data)
    const { minReplicaCount = 0, maxReplicaCount = 100, advanced } = object.spec
    if (minReplicaCount > maxReplicaCount) throw new Error(`minReplicaCount ${minReplicaCount} > maxReplicaCount ${maxReplicaCount}`)
    // The behavior is copied into the HPA that KEDA makes: checked as an HPA's.
    const behavior = advanced?.horizontalPodAutoscalerConfig?.behavior as IHorizontalPodAutoscalerBehavior | undefined
    if (behavior !== undefined) {
      new HorizontalPodAutoscaler({ metadata: { name: 'behavior' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'behavior' }, maxReplicas: maxReplicaCount, behavior } }).validate()
    }
  }
}
