import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

/**
 * Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header) for POST /v1/jobs: a key, scoped
 * to the client, names one job for JOB_TTL_S, together with the fingerprint of the request that
 * made it. Each back end keeps the keys where its jobs are; idempotent-submit.ts uses them.
 */
export type IdempotencyClaim =
  /** The key is now this request's, pending: make the job, then bind it (or release the key). */
  | { outcome: 'new' }
  /** The key names this job, made by the same request. */
  | { outcome: 'replay', jobId: string }
  /** The same request, whose job is still being made (409), or another request (422). */
  | { outcome: 'in-progress' }
  | { outcome: 'mismatch' }

export interface IdempotencyKeys {
  /** Claims `name` for a request with this fingerprint, pending for at most `pendingMs`. */
  claim(name: string, fingerprint: string, pendingMs: number): Promise<IdempotencyClaim>
  /** The job made: the key names it for `ttlS` seconds. */
  bind(name: string, fingerprint: string, jobId: string, ttlS: number): Promise<void>
  /** Frees the key: its job was refused (429, 503), or has gone (deleted or evicted with its key). */
  release(name: string): Promise<void>
}

/** Where a client's key is kept: a digest, so a key of any length (up to the header's limit) costs the same and is never stored. */
export const idempotencyName = (client: string, key: string) =>
  `compute:jobs:idempotency:${createHash('sha256').update(client).update('\n').update(key).digest('base64url')}`

/** A stored value: `<job id or "pending"> <fingerprint>`. */
const PENDING = 'pending'
function claimOf (stored: string, fingerprint: string): IdempotencyClaim {
  const [state, storedFingerprint] = stored.split(' ')
  if (storedFingerprint !== fingerprint) return { outcome: 'mismatch' }
  return state === PENDING ? { outcome: 'in-progress' } : { outcome: 'replay', jobId: state! }
}

/** Keys in Redis: SET NX with an expiry claims one atomically, whichever replica the retry reaches. */
export function redisIdempotencyKeys (commands: Redis): IdempotencyKeys {
  return {
    async claim (name, fingerprint, pendingMs) {
      // A key may expire between the SET and the GET: then claim it again.
      for (let attempt = 0; attempt < 3; attempt++) {
        if (await commands.set(name, `${PENDING} ${fingerprint}`, 'PX', pendingMs, 'NX') === 'OK') return { outcome: 'new' }
        const stored = await commands.get(name)
        if (stored !== null) return claimOf(stored, fingerprint)
      }
      return { outcome: 'in-progress' }
    },
    async bind (name, fingerprint, jobId, ttlS) {
      await commands.set(name, `${jobId} ${fingerprint}`, 'EX', ttlS)
    },
    async release (name) {
      await commands.del(name)
    }
  }
}

/** Keys in this process; a job forgotten (expired, deleted, evicted) frees its key (embedded-jobs.ts). */
export function embeddedIdempotencyKeys (now = () => Date.now()) {
  const keys = new Map<string, { value: string, expiresAt: number }>()
  const live = (name: string) => {
    const entry = keys.get(name)
    if (entry !== undefined && entry.expiresAt <= now()) keys.delete(name)
    return keys.get(name)
  }
  const store: IdempotencyKeys = {
    async claim (name, fingerprint, pendingMs) {
      const entry = live(name)
      if (entry !== undefined) return claimOf(entry.value, fingerprint)
      keys.set(name, { value: `${PENDING} ${fingerprint}`, expiresAt: now() + pendingMs })
      return { outcome: 'new' }
    },
    async bind (name, fingerprint, jobId, ttlS) {
      keys.set(name, { value: `${jobId} ${fingerprint}`, expiresAt: now() + ttlS * 1000 })
    },
    async release (name) {
      keys.delete(name)
    }
  }
  return { ...store, forget: (name: string) => { keys.delete(name) }, get size () { return keys.size } }
}

/** The keys with each Redis command's failure answered as the job routes answer it (job-store-errors.ts). */
export function guardedKeys (keys: IdempotencyKeys, guarded: <T>(operation: () => Promise<T>) => Promise<T>): IdempotencyKeys {
  return {
    claim: (...args) => guarded(() => keys.claim(...args)),
    bind: (...args) => guarded(() => keys.bind(...args)),
    release: (...args) => guarded(() => keys.release(...args))
  }
}
