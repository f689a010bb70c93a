import { ClientShares, type ShareRefusal } from '../clients/client-shares.js'

/** Why a reservation was refused: the client is past its own share (its fault), or the whole budget is full. */
export type UploadRefusal = ShareRefusal

/** One request's share of the upload budget: what it has reserved, and the means to grow or return it. */
export interface Reservation {
  readonly bytes: number
  /** Reserves `bytes` more; with nothing reserved, why not when the share or the budget cannot take them. */
  grow(bytes: number): UploadRefusal | undefined
  /** Returns everything reserved; later calls do nothing. */
  release(): void
}

export interface UploadBudgetStats {
  /** Requests holding a reservation: bodies being read, or read and not yet answered. */
  inFlight: number
  /** Clients (API keys, or addresses) holding upload memory. */
  clients: number
  reservedBytes: number
  maxBytes: number
  /** Most one client may hold. */
  perClientBytes: number
  /** True while a body of the largest size would be refused. */
  saturated: boolean
}

/**
 * The memory that request bodies in flight may hold, counted in bytes reserved before they arrive,
 * and the share of it each client may hold, so that one client cannot fill it for everyone.
 * Body memory lives mostly outside the V8 heap (Buffers, SharedArrayBuffers), where heap-based load
 * shedding never sees it; this is what bounds it.
 */
export function createUploadBudget (maxBytes: number, largestBody: number, perClientBytes = maxBytes) {
  // The budget first: when it is full, that is the service's state whoever asks (and with a share of
  // the whole budget, the answers are those of a budget without shares).
  const shares = new ClientShares(maxBytes, perClientBytes, 'full-first')
  let inFlight = 0

  return {
    /** A reservation of `bytes` for `client`, or why the budget cannot take them now. */
    reserve (bytes: number, client: string): Reservation | UploadRefusal {
      const refused = shares.take(client, bytes)
      if (refused !== undefined) return refused
      inFlight++
      let mine = bytes
      let released = false
      return {
        get bytes () { return mine },
        grow (more) {
          if (released) return 'full'
          const refused = shares.take(client, more)
          if (refused === undefined) mine += more
          return refused
        },
        release () {
          if (released) return
          released = true
          shares.give(client, mine)
          inFlight--
        }
      }
    },
    stats (): UploadBudgetStats {
      return { inFlight, clients: shares.clients, reservedBytes: shares.total, maxBytes, perClientBytes, saturated: maxBytes - shares.total < largestBody }
    }
  }
}

export type UploadBudget = ReturnType<typeof createUploadBudget>
