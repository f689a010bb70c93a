import { totalmem } from 'node:os'

/**
 * The memory this process may use: its cgroup's limit when it has one (a container's), else the
 * machine's. Node reports "no limit" as 0 or as a huge number, depending on version and cgroup.
 */
export function processMemoryLimit (constrained = process.constrainedMemory?.() ?? 0, total = totalmem()): number {
  return constrained > 0 && constrained < total ? constrained : total
}

/**
 * Default UPLOAD_MEMORY_MAX_BYTES: a quarter of the memory the process may use. The rest is for
 * what the budget does not count: the baseline (~100 MiB), the worker threads' heaps, and V8's
 * garbage-collection slack (measurements in docs/hostile-clients.md).
 */
export function defaultUploadMemory (limit = processMemoryLimit()): number {
  return Math.floor(limit / 4)
}

/**
 * What a JSON body costs in memory per byte while it is read, parsed, validated and copied for the
 * workers: measured at 10-20 times its size (docs/hostile-clients.md); the budget counts it at 16.
 */
export const JSON_MEMORY_FACTOR = 16

/** The largest reservation one body with Content-Length can need: a binary body at 1, a JSON one at JSON_MEMORY_FACTOR. */
export function largestReservedBody (bodyLimit: number, jsonBodyLimit: number): number {
  return Math.max(bodyLimit, jsonBodyLimit * JSON_MEMORY_FACTOR)
}
