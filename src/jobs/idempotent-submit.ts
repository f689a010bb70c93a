import { createHash } from 'node:crypto'
import { IdempotencyKeyInUseError, IdempotencyKeyReusedError, InvalidIdempotencyKeyError } from '../errors.js'
import { signedZeroJson } from '../http/signed-zero-json.js'
import type { JobDocument, JobRequest } from './job-document.js'
import { idempotencyName } from './idempotency-keys.js'
import type { JobCaller, Jobs } from './jobs.js'

export interface Idempotency {
  key: string
  fingerprint: string
}

/** Longest key accepted: a UUID is 36 characters; the draft sets no limit, a server must. */
const MAX_KEY_LENGTH = 255

/**
 * The key from an `Idempotency-Key` header: the draft makes it a Structured Field string (quoted),
 * and many clients send it bare, so both are read. Undefined when absent; 400 when malformed.
 */
export function idempotencyKeyOf (header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (typeof header !== 'string') throw new InvalidIdempotencyKeyError(MAX_KEY_LENGTH)
  const quoted = /^"((?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\["\\])*)"$/.exec(header)
  const key = quoted !== null ? quoted[1]!.replace(/\\(["\\])/g, '$1') : /^[\x21\x23-\x7e][\x21-\x7e]*$/.test(header) ? header : undefined
  if (key === undefined || key.length === 0 || key.length > MAX_KEY_LENGTH) throw new InvalidIdempotencyKeyError(MAX_KEY_LENGTH)
  return key
}

/** What makes two POSTs the same request: the task and its input, as validated (binary inputs by their bytes). */
export function jobFingerprint (request: JobRequest): string {
  const hash = createHash('sha256').update(request.task).update('\n')
  if (request.binary === undefined) hash.update(signedZeroJson(request.input))
  else hash.update('binary\n').update(new Uint8Array(request.binary.buffer, request.binary.byteOffset, request.binary.byteLength))
  return hash.digest('base64url')
}

/**
 * Submits a job once per key: the first request with a key makes the job, a retry with the same
 * request gets that job again (`replayed`), a request still being made 409, another request 422.
 * The key is claimed before the job is made, pending for `pendingMs` (a replica that dies meanwhile
 * blocks the key that long, not JOB_TTL_S); a refused job (429, 503) frees it, so a retry can succeed.
 */
export async function submitOnce (jobs: Jobs, request: JobRequest, caller: JobCaller, idempotency: Idempotency | undefined,
  { pendingMs, ttlS }: { pendingMs: number, ttlS: number }): Promise<{ document: JobDocument, replayed: boolean }> {
  if (idempotency === undefined) return { document: await jobs.submit(request, caller), replayed: false }
  const name = idempotencyName(caller.client, idempotency.key)
  // A key whose job has gone (deleted, evicted) is freed and claimed again, once.
  for (let attempt = 0; attempt < 2; attempt++) {
    const claim = await jobs.idempotency.claim(name, idempotency.fingerprint, pendingMs)
    if (claim.outcome === 'mismatch') throw new IdempotencyKeyReusedError()
    if (claim.outcome === 'in-progress') throw new IdempotencyKeyInUseError()
    if (claim.outcome === 'replay') {
      const document = await jobs.get(claim.jobId, caller)
      if (document !== undefined) return { document, replayed: true }
      await jobs.idempotency.release(name)
      continue
    }
    let document: JobDocument
    try {
      document = await jobs.submit(request, caller, { idempotencyKey: name })
    } catch (error) {
      await jobs.idempotency.release(name).catch(() => {})
      throw error
    }
    await jobs.idempotency.bind(name, idempotency.fingerprint, document.id, ttlS)
    return { document, replayed: false }
  }
  throw new IdempotencyKeyInUseError()
}
