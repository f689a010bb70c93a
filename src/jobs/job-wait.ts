import { isActive, type JobDocument } from './job-document.js'
import type { JobFeeds } from './job-feeds.js'
import type { JobCaller } from './jobs.js'

/** The longest `?wait=` a GET may ask for, in seconds (AIP-151's WaitOperation takes a timeout too). */
export const MAX_WAIT_S = 60

/**
 * The job once it has finished, or as it is after `waitMs`, whichever comes first; undefined when the
 * caller cannot see it. It follows the job's feed as an event stream does, so a change costs no more
 * reads however many callers wait (src/jobs/job-feeds.ts).
 */
export function waitForJob (feeds: JobFeeds, id: string, caller: JobCaller, waitMs: number): Promise<JobDocument | undefined> {
  return new Promise((resolve, reject) => {
    let last: JobDocument | undefined
    let unfollow: (() => void) | undefined
    let settled = false
    const settle = (document: JobDocument | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      unfollow?.()
      resolve(document)
    }
    const timer = setTimeout(() => settle(last), waitMs)
    feeds.follow(id, caller, {
      send: async (event, document) => {
        last = document
        if (event === 'done') settle(document)
      },
      // The feed ended without `done` (shutting down, or the job is gone): the latest document seen.
      close: () => settle(last),
      // Registered after the first read: a wait already over unfollows at once.
      onClose: (callback) => {
        if (settled) callback()
        else unfollow = callback
      }
    }).then((found) => { if (!found) settle(undefined) }, (error: unknown) => {
      clearTimeout(timer)
      reject(error)
    })
  })
}

/**
 * Seconds a poller should wait before asking again about an active job: a second while it is young,
 * then a tenth of its age, at most 30 s, so that a long job is not polled every second for hours.
 */
export function pollAfterS (document: JobDocument): number | undefined {
  if (!isActive(document.status)) return undefined
  return Math.min(30, Math.max(1, Math.round((document.elapsedMs ?? 0) / 10_000)))
}
