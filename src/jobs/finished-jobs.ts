/**
 * Finished job ids in the order they finished, per client and in all: the embedded back end's
 * JOBS_MAX_STORED_PER_KEY and JOBS_MAX_STORED. Adding past a cap evicts the oldest finished job of
 * that client (the per-client cap) or overall (the global cap), so submitting never stops working.
 * (Redis keeps the same order in sorted sets, trimmed by the scripts that end a job.)
 */
export class FinishedJobs {
  /** Insertion-ordered: the first entry finished first. Values are the job's client. */
  readonly #all = new Map<string, string>()
  readonly #byClient = new Map<string, Set<string>>()

  constructor (private readonly maxPerClient: number, private readonly maxAll: number) {}

  get size (): number { return this.#all.size }

  /** Records a finished job; answers the ids evicted to make room (the caller forgets them). */
  add (id: string, client: string): string[] {
    this.#all.set(id, client)
    let mine = this.#byClient.get(client)
    if (mine === undefined) this.#byClient.set(client, mine = new Set())
    mine.add(id)
    const evicted: string[] = []
    for (const oldest of mine) {
      if (mine.size <= this.maxPerClient) break
      evicted.push(oldest)
      this.remove(oldest)
    }
    for (const [oldest] of this.#all) {
      if (this.#all.size <= this.maxAll) break
      evicted.push(oldest)
      this.remove(oldest)
    }
    return evicted
  }

  /** Forgets a job (expired, deleted or evicted). */
  remove (id: string): void {
    const client = this.#all.get(id)
    if (client === undefined) return
    this.#all.delete(id)
    const mine = this.#byClient.get(client)!
    mine.delete(id)
    if (mine.size === 0) this.#byClient.delete(client)
  }
}
