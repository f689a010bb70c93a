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
