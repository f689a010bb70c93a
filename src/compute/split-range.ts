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

/** The `index`-th of the `parts` sub-ranges splitRange returns, computed alone: jobs cut millions of chunks lazily. */
export function nthRange ({ start, end }: Range, parts: number, index: number): Range {
  const terms = end - start
  const base = Math.floor(terms / parts)
  const remainder = terms - base * parts
  const first = start + index * base + Math.min(index, remainder)
  return { start: first, end: first + base + (index < remainder ? 1 : 0) }
}
