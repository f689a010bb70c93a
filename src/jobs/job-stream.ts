import { isActive, type JobDocument } from './job-document.js'
import type { JobCaller, JobChange, Jobs } from './jobs.js'

/** Where a followed job's events go: an SSE reply, in the route. */
export interface EventSink {
  send(event: 'progress' | 'done', document: JobDocument): Promise<void>
  close(): void
  /** Called when the client goes away. */
  onClose(callback: () => void): void
}

export interface FollowOptions {
  /** Least time between two progress events while only `done` grows. */
  throttleMs?: number
  /** Re-reads the job this often even without a change message (one lost in a reconnect). */
  pollMs?: number
}

/**
 * Streams a job's document: a `progress` event at once, at once again on each status change, at
 * most every `throttleMs` while chunks finish, and a final `done` event before the stream closes.
 * Resolves false (and sends nothing) when the caller cannot see the job.
 */
export async function followJob (jobs: Jobs, id: string, caller: JobCaller, sink: EventSink, { throttleMs = 250, pollMs = 5000 }: FollowOptions = {}): Promise<boolean> {
  let last: JobDocument | undefined
  let lastSentAt = 0
  let timer: NodeJS.Timeout | undefined
  // Reads run one after another; one waiting read stands for any number of changes.
  let reads = Promise.resolve()
  let readWaiting = false
  let ended = false

  const end = () => {
    if (ended) return
    ended = true
    clearTimeout(timer)
    clearInterval(poll)
    unwatch()
    sink.close()
  }

  async function deliver (document: JobDocument) {
    last = document
    lastSentAt = Date.now()
    await sink.send('progress', document)
    if (isActive(document.status)) return
    await sink.send('done', document)
    end()
  }

  async function readAndDeliver () {
    readWaiting = false
    if (ended) return
    let document: JobDocument | undefined
    try {
      document = await jobs.get(id, caller)
    } catch {
      return // the job store is unreachable for now: the next change or poll tries again
    }
    if (document === undefined) return end() // deleted or expired meanwhile
    if (document.status !== last?.status || document.progress.done !== last.progress.done) await deliver(document).catch(end)
  }

  function read (): Promise<void> {
    if (!readWaiting) {
      readWaiting = true
      reads = reads.then(readAndDeliver)
    }
    return reads
  }

  /** Progress only: at most one event per throttleMs. */
  function readSoon () {
    if (timer !== undefined) return
    const wait = lastSentAt + throttleMs - Date.now()
    if (wait <= 0) return read()
    timer = setTimeout(() => { timer = undefined; read() }, wait)
  }

  // Changes before the first event is sent are answered after it, so events never go back in time.
  let early: JobChange | undefined
  const onChange = (change: JobChange) => {
    if (last === undefined) {
      early = change === 'closing' || early === 'closing' ? 'closing' : change
      return
    }
    // Closing: the latest document, then the end of the stream (the client reconnects elsewhere).
    if (change === 'closing') read().then(end, end)
    else if (change === 'status') read()
    else readSoon()
  }
  // Watch before the first read, so no change between the two is missed.
  const unwatch = jobs.watch(id, onChange)
  const poll = setInterval(readSoon, pollMs).unref()
  const first = await jobs.get(id, caller).catch((error: unknown) => {
    clearInterval(poll)
    unwatch()
    throw error
  })
  if (first === undefined) {
    clearInterval(poll)
    unwatch()
    return false
  }
  sink.onClose(end)
  await deliver(first).catch(end)
  if (early !== undefined) onChange(early)
  return true
}
