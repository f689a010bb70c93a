import { getHeapStatistics } from 'node:v8'

export interface MemoryReading {
  /** Resident set size; null when it could not be read. */
  rssBytes: number | null
  heapUsedBytes: number
}

/**
 * The process's memory, for probes that run while it may be out of file descriptors: the resident
 * size is read from /proc, which needs one (EMFILE then), so a failure gives null and is reported to
 * `onError`; the heap comes from V8 and needs none.
 */
export function readMemory (onError: (error: unknown) => void): MemoryReading {
  const heapUsedBytes = getHeapStatistics().used_heap_size
  try {
    return { rssBytes: process.memoryUsage.rss(), heapUsedBytes }
  } catch (error) {
    onError(error)
    return { rssBytes: null, heapUsedBytes }
  }
}
