import { performance } from 'node:perf_hooks'
import { setImmediate, setTimeout } from 'node:timers'
import { ClientShares, type ShareRefusal } from '../clients/client-shares.js'

export interface JsonParseQueueStats {
  /** Bodies read and waiting for their turn to be parsed. */
  queued: number
  /** Their size, in characters of JSON. */
  queuedBytes: number
  maxBytes: number
  perClientBytes: number
}

/** Why a body was refused a place: its client is past its share (its fault), or the queue is full. */
export type JsonParseRefusal = ShareRefusal

interface Waiting {
  client: string
  bytes: number
  parse: () => void
}

/**
 * JSON bodies parsed one at a time, each in its own event-loop turn: JSON.parse (and the schema
 * validation that runs synchronously after it) cannot be interrupted, so 64 bodies parsed back to
 * back would hold the loop for seconds, while between two, for as long as the last took, health
 * checks and probes are answered. A body arriving while none is waiting is parsed at once, at no cost. The characters
 * waiting are bounded in all and per client, so the wait stays short.
 */
export function createJsonParseQueue (maxBytes: number, perClientBytes: number) {
  const waiting: Waiting[] = []
  const shares = new ClientShares(maxBytes, perClientBytes)
  // True from a parse until the next turn: what arrives meanwhile waits for that turn.
  let busy = false

  const run = (job: Waiting) => {
    busy = true
    const started = performance.now()
    try {
      job.parse()
    } finally {
      // The loop gets at least as long as the parse took before the next one: a health check needs
      // a few turns (accept, read, answer), and each would otherwise carry a whole parse.
      const tookMs = performance.now() - started
      if (tookMs < 1) setImmediate(next)
      else setTimeout(next, tookMs)
    }
  }
  const next = () => {
    const job = waiting.shift()
    if (job === undefined) {
      busy = false
      return
    }
    shares.give(job.client, job.bytes)
    run(job)
  }

  return {
    /** Runs `parse` now or in a later turn, or says why the body has no place. `parse` must call its done callback synchronously. */
    enqueue (client: string, bytes: number, parse: () => void): JsonParseRefusal | undefined {
      if (!busy) {
        run({ client, bytes, parse })
        return undefined
      }
      const refused = shares.take(client, bytes)
      if (refused === undefined) waiting.push({ client, bytes, parse })
      return refused
    },
    stats (): JsonParseQueueStats {
      return { queued: waiting.length, queuedBytes: shares.total, maxBytes, perClientBytes }
    }
  }
}

export type JsonParseQueue = ReturnType<typeof createJsonParseQueue>
