import { deserialize, serialize } from 'node:v8'

/**
 * Chunks' partial results as a job stores them until its merge: one byte string per job, each
 * chunk's record appended once (index, length, bytes), which costs Redis about the partial's own
 * bytes, where a hash field per chunk costs some 60 more (docs/jobs.md). Every partial already
 * crossed a thread boundary (structured clone), so V8's serializer keeps any of them exactly,
 * BigInt sums and a superaccumulator's Float64Array limbs alike; replicas must run Node versions
 * that read each other's format (a newer V8 reads an older one's).
 */
const HEADER_BYTES = 8

/** Chunk `index`'s record, to append to the job's partials. */
export function recordPartial (index: number, partial: unknown): Buffer {
  const bytes = serialize(partial)
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32BE(index, 0)
  header.writeUInt32BE(bytes.length, 4)
  return Buffer.concat([header, bytes])
}

/** The partials of chunks 0..chunks-1 in chunk order, from their records in any order; undefined where one is missing. */
export function readPartials (records: Buffer, chunks: number): unknown[] | undefined {
  const partials = new Array<unknown>(chunks)
  let found = 0
  for (let at = 0; at + HEADER_BYTES <= records.length;) {
    const index = records.readUInt32BE(at)
    const length = records.readUInt32BE(at + 4)
    const start = at + HEADER_BYTES
    if (index < chunks && !(index in partials)) {
      partials[index] = deserialize(records.subarray(start, start + length))
      found++
    }
    at = start + length
  }
  return found === chunks ? partials : undefined
}
