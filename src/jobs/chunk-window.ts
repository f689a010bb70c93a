import { bitOf } from './redis-records.js'

/**
 * A Redis job's chunks enter the BullMQ queue through a sliding window: the first CHUNKS_AHEAD at
 * submit, then each finished chunk brings in the one CHUNKS_AHEAD after it. Which chunks are in the
 * queue follows from the bitmap of finished ones, so a cancel can remove them without listing the queue.
 */

/** Chunks of one job waiting in the queue at once: enough to keep 64 threads on it, few enough to cancel quickly. */
export const CHUNKS_AHEAD = 64

/** A chunk's id in the queue: deterministic, so adding a chunk twice is a no-op. */
export const chunkId = (id: string, index: number) => `${id}.${index}`

/** The chunks queued when a job starts. */
export function firstChunks (chunks: number): number[] {
  return Array.from({ length: Math.min(CHUNKS_AHEAD, chunks) }, (_, index) => index)
}

/** The chunks that may still wait in the queue, given the bitmap of finished ones: at most CHUNKS_AHEAD. */
export function queuedChunks (chunks: number, bitmap: Buffer): number[] {
  const queued = new Set<number>()
  for (const index of firstChunks(chunks)) if (bitOf(bitmap, index) === 0) queued.add(index)
  for (let done = 0; done < Math.min(bitmap.length * 8, chunks); done++) {
    const next = done + CHUNKS_AHEAD
    if (bitOf(bitmap, done) === 1 && next < chunks && bitOf(bitmap, next) === 0) queued.add(next)
  }
  return [...queued]
}
