export interface Range {
  start: number
  end: number
}

/**
 * Splits [start, end) into `parts` contiguous sub-ranges whose lengths differ by at most one,
 * in order, covering every integer exactly once. All arithmetic stays below 2^53, so it is exact.
 */
export function splitRange ({ start, end }: Range, parts: number): Range[] {
  const terms = end - start
  const base = Math.floor(terms / parts)
  const remainder = terms - base * parts
  const ranges: Range[] = []
  let cursor = start
  for (let i = 0; i < parts; i++) {
    const next = cursor + base + (i < remainder ? 1 : 0)
    ranges.push({ start: cursor, end: next })
    cursor = next
  }
  return ranges
}

export interface ChunkPolicy {
  /** Threads the work may spread over. */
  threads: number
  /**
   * Fewest terms worth a task of their own. A pool task costs tens of microseconds of hand-off;
   * below this size that overhead stops being a small fraction of the work, so the range is not split.
   */
  minTermsPerChunk: number
}

/**
 * How many sub-ranges to cut a range of `terms` into. A client's explicit request wins
 * (capped at one term per chunk); otherwise small ranges stay whole and large ones use every thread.
 */
export function chooseChunks (terms: number, policy: ChunkPolicy, requested?: number): number {
  if (requested !== undefined) return Math.max(1, Math.min(requested, terms))
  return Math.max(1, Math.min(policy.threads, Math.floor(terms / policy.minTermsPerChunk)))
}
