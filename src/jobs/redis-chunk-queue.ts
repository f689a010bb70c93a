import { Queue } from 'bullmq'
import type { Redis } from 'ioredis'
import { chunkId, firstChunks, queuedChunks } from './chunk-window.js'

/** Runs of a chunk that throws before its job fails. */
export const CHUNK_ATTEMPTS = 3
/** BullMQ's largest priority (lower runs first). */
const MAX_PRIORITY = 2 ** 21

/** The BullMQ queue of every job's chunks. */
export const CHUNK_QUEUE = 'compute-chunks'

/** A chunk in the queue names its job; the job's input stays in the job's hash (stored-jobs.ts). */
export interface ChunkData {
  job: string
  index: number
  chunks: number
}

export type ChunkQueue = ReturnType<typeof createChunkQueue>

/** The queue every replica takes chunks from, and the ways a job's chunks enter and leave it (chunk-window.ts). */
export function createChunkQueue (commands: Redis) {
  const queue = new Queue<ChunkData>(CHUNK_QUEUE, {
    connection: commands,
    // Retries are for the bookkeeping around a chunk (a Redis hiccup must not fail a job of hours);
    // the kernel itself is deterministic.
    defaultJobOptions: { removeOnComplete: true, removeOnFail: true, attempts: CHUNK_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } }
  })

  async function add (id: string, task: string, chunks: number, indices: number[]) {
    await queue.addBulk(indices.map((index) => ({
      name: task,
      data: { job: id, index, chunks },
      // Deterministic ids make adding a chunk twice a no-op; lower indices first spreads the
      // cluster over every active job.
      opts: { jobId: chunkId(id, index), priority: Math.min(index + 1, MAX_PRIORITY) }
    })))
  }

  return {
    queue,
    add,
    addFirst: (id: string, task: string, chunks: number) => add(id, task, chunks, firstChunks(chunks)),
    /** Whether a job's first chunk was ever queued (it stays in the queue until it has run). */
    hasFirst: async (id: string) => await queue.getJob(chunkId(id, 0)) !== undefined,
    /** Removes the chunks of a cancelled job still waiting; a chunk running somewhere is locked and stays (its replica aborts it on the cancel message). */
    async removeQueued (id: string, chunks: number, bitmap: Buffer) {
      await Promise.all(queuedChunks(chunks, bitmap).map((index) => queue.remove(chunkId(id, index)).catch(() => 0)))
    }
  }
}
