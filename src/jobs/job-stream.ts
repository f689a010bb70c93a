import { isActive, type JobDocument, type JobStatus } from './job-document.js'

/** Where a followed job's events go: an SSE reply, in the route. */
export interface EventSink {
  send(event: 'progress' | 'done', document: JobDocument): Promise<void>
  close(): void
  /** Called when the client goes away. */
  onClose(callback: () => void): void
}

const rank: Record<JobStatus, number> = { queued: 0, running: 1, succeeded: 2, failed: 2, cancelled: 2 }

/** Later in the job's life than `than`: a later status, or the same one with more done. Reads may finish out of order. */
export function isNewer (document: JobDocument, than: JobDocument | undefined): boolean {
  if (than === undefined) return true
  return rank[document.status] > rank[than.status] || (document.status === than.status && document.progress.done > than.progress.done)
}

/**
 * One stream of a job's documents: each offered document that is newer than the last one sent goes
 * out as a `progress` event (a slow client skips to the newest), a finished one also as `done`, and
 * the stream ends. Documents offered before `start` wait: the caller may not see the job yet.
 */
export class StreamFollower {
  #last: JobDocument | undefined
  #pending: JobDocument | undefined
  #started = false
  #sending: Promise<void> | undefined
  #endRequested = false
  #ended = false
  readonly #sink: EventSink
  readonly #onEnd: () => void

  constructor (sink: EventSink, onEnd: () => void) {
    this.#sink = sink
    this.#onEnd = onEnd
  }

  offer (document: JobDocument): void {
    if (this.#ended || !isNewer(document, this.#pending ?? this.#last)) return
    this.#pending = document
    if (this.#started) this.#sending ??= this.#pump()
  }

  /** The caller may see the job: sends `first` (or a newer document offered meanwhile); resolves once sent. */
  async start (first: JobDocument): Promise<void> {
    this.#started = true
    this.offer(first)
    // A newer document offered before the start stands in for `first`: it still has to go out.
    if (this.#pending !== undefined) this.#sending ??= this.#pump()
    await this.#sending
    if (this.#endRequested) this.end()
  }

  /** Ends the stream; before `start`, right after its first event (so the handler still answers with a stream). */
  end (): void {
    if (!this.#started) {
      this.#endRequested = true
      return
    }
    if (this.#ended) return
    this.#ended = true
    this.#sink.close()
    this.#onEnd()
  }

  async #pump (): Promise<void> {
    try {
      while (this.#pending !== undefined && !this.#ended) {
        const document = this.#pending
        this.#pending = undefined
        this.#last = document
        await this.#sink.send('progress', document)
        if (isActive(document.status)) continue
        await this.#sink.send('done', document)
        this.end()
      }
    } catch {
      this.end() // the client went away mid-write
    } finally {
      this.#sending = undefined
    }
  }
}
