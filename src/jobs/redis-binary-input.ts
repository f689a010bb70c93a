import type { Redis } from 'ioredis'

/**
 * A job's binary input in Redis: its bytes as a list of blocks beside the job's hash
 * (keysOf(id).input), one RPUSH per block so that no one command holds Redis for the whole upload,
 * read back into shared memory for the task's split, as the route's own parser lays it out. The key
 * expires (JOB_TTL_S) until the submit script admits the job and keeps it for the job's life; ending
 * the job deletes it, as it does the partials.
 */
// Just under 1 MiB: each block is one allocation that fills jemalloc's 1 MiB size class, where one
// string of 8 MiB (or 8 MiB of APPENDs) takes 10 MiB (docs/jobs.md).
const BLOCK_BYTES = 1024 * 1024 - 64

export async function storeBinaryInput (commands: Redis, key: string, values: Float64Array, ttlS: number): Promise<void> {
  const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength)
  for (let offset = 0; offset < bytes.length; offset += BLOCK_BYTES) {
    await commands.rpush(key, bytes.subarray(offset, offset + BLOCK_BYTES))
    if (offset === 0) await commands.expire(key, ttlS)
  }
}

/** The input's values in a SharedArrayBuffer of their own (workers read it in place); undefined once the job has ended. */
export async function readBinaryInput (commands: Redis, key: string): Promise<Float64Array<SharedArrayBuffer> | undefined> {
  const blocks = await commands.lrangeBuffer(key, 0, -1)
  if (blocks.length === 0) return undefined
  const shared = new Uint8Array(new SharedArrayBuffer(blocks.reduce((sum, block) => sum + block.length, 0)))
  let offset = 0
  for (const block of blocks) {
    shared.set(block, offset)
    offset += block.length
  }
  return new Float64Array(shared.buffer)
}
