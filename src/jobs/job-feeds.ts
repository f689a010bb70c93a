import type { JobDocument } from './job-document.js'
import type { JobCaller, JobChange, Jobs } from './jobs.js'
import { StreamFollower, type EventSink } from './job-stream.js'

export interface FeedOptions {
  /** Least time between two reads while only `done` grows. */
  throttleMs?: number
  /** Reads the job this often even without a change message (one lost in a reconnect). */
  pollMs?: number
}

// Shared reads see every job: each stream's own first read (with its caller) has checked that it
// may, and a job's owner never changes.
const FEED_READER: JobCaller = { client: 'job-feed', requestId: 'job-feed' }

/**
 * One job's watcher and reads, shared by every stream that follows it: a change costs one read
 * (one HGETALL in Redis mode), however many streams there are, and its document goes to each.
 */
class JobFeed {
  readonly followers = new Set<StreamFollower>()
  #lastReadAt = 0
  #timer: NodeJS.Timeout | undefined
  // Reads run one after another; one waiting read stands for any number of changes.
  #reads = Promise.resolve()
  #readWaiting = false
  readonly #unwatch: () => void
  readonly #poll: NodeJS.Timeout

  constructor (readonly jobs: Jobs, readonly id: string, readonly options: Required<FeedOptions>, readonly onIdle: () => void) {
    this.#unwatch = jobs.watch(id, (change) => this.#changed(change))
    this.#poll = setInterval(() => this.#readSoon(), options.pollMs).unref()
  }

  remove (follower: StreamFollower): void {
    this.followers.delete(follower)
    if (this.followers.size > 0) return
    clearTimeout(this.#timer)
    clearInterval(this.#poll)
    this.#unwatch()
    this.onIdle()
  }

  #changed (change: JobChange): void {
    // Closing: the latest document, then the end of every stream (clients reconnect elsewhere).
    if (change === 'closing') this.#read().then(() => this.#endAll(), () => this.#endAll())
    else if (change === 'status') this.#read()
    else this.#readSoon()
  }

  #endAll (): void {
    for (const follower of [...this.followers]) follower.end()
  }

  #read (): Promise<void> {
    if (!this.#readWaiting) {
      this.#readWaiting = true
      this.#reads = this.#reads.then(() => this.#readAndOffer())
    }
    return this.#reads
  }

  /** Progress only: at most one read per throttleMs. */
  #readSoon (): void {
    if (this.#timer !== undefined) return
    const wait = this.#lastReadAt + this.options.throttleMs - Date.now()
    if (wait <= 0) {
      this.#read()
      return
    }
    this.#timer = setTimeout(() => { this.#timer = undefined; this.#read() }, wait)
  }

  async #readAndOffer (): Promise<void> {
    this.#readWaiting = false
    if (this.followers.size === 0) return
    let document: JobDocument | undefined
    this.#lastReadAt = Date.now()
    try {
      document = await this.jobs.get(this.id, FEED_READER)
    } catch {
      return // the job store is unreachable for now: the next change or poll tries again
    }
    if (document === undefined) return this.#endAll() // deleted or expired meanwhile
    for (const follower of this.followers) follower.offer(document)
  }
}

/** The feeds of the jobs followed in this process, by job id. */
export class JobFeeds {
  readonly #feeds = new Map<string, JobFeed>()
  readonly #options: Required<FeedOptions>

  constructor (readonly jobs: Jobs, { throttleMs = 250, pollMs = 5000 }: FeedOptions = {}) {
    this.#options = { throttleMs, pollMs }
  }

  /**
   * Streams a job's document: a `progress` event at once, again on each status change, at most
   * every `throttleMs` while chunks finish, and a final `done` event before the stream closes.
   * Resolves false (and sends nothing) when the caller cannot see the job.
   */
  async follow (id: string, caller: JobCaller, sink: EventSink): Promise<boolean> {
    let feed = this.#feeds.get(id)
    if (feed === undefined) {
      const created: JobFeed = new JobFeed(this.jobs, id, this.#options, () => { if (this.#feeds.get(id) === created) this.#feeds.delete(id) })
      this.#feeds.set(id, feed = created)
    }
    const joined = feed
    const follower: StreamFollower = new StreamFollower(sink, () => joined.remove(follower))
    // Joined before the first read, so no change between the two is missed.
    joined.followers.add(follower)
    let first: JobDocument | undefined
    try {
      first = await this.jobs.get(id, caller)
    } finally {
      if (first === undefined) joined.remove(follower)
    }
    if (first === undefined) return false
    sink.onClose(() => follower.end())
    await follower.start(first)
    return true
  }

  /** Jobs followed now (tests). */
  get size (): number {
    return this.#feeds.size
  }
}
