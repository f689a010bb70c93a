/** Why a reservation was refused: the client is past its own share (its fault), or the whole budget is full. */
export type UploadRefusal = 'share' | 'budget'

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
  /** Clients (API keys, or addresses) holding a reservation. */
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
  let reservedBytes = 0
  let inFlight = 0
  const held = new Map<string, { bytes: number, requests: number }>()
  // The budget first: when it is full, that is the service's state whoever asks (and with a share of
  // the whole budget, the answers are those of a budget without shares).
  const refusal = (client: string, bytes: number): UploadRefusal | undefined =>
    reservedBytes + bytes > maxBytes ? 'budget' : (held.get(client)?.bytes ?? 0) + bytes > perClientBytes ? 'share' : undefined

  return {
    /** A reservation of `bytes` for `client`, or why the budget cannot take them now. */
    reserve (bytes: number, client: string): Reservation | UploadRefusal {
      const refused = refusal(client, bytes)
      if (refused !== undefined) return refused
      const holder = held.get(client) ?? { bytes: 0, requests: 0 }
      held.set(client, holder)
      holder.requests++
      holder.bytes += bytes
      reservedBytes += bytes
      inFlight++
      let mine = bytes
      let released = false
      return {
        get bytes () { return mine },
        grow (more) {
          if (released) return 'budget'
          const refused = refusal(client, more)
          if (refused !== undefined) return refused
          reservedBytes += more
          holder.bytes += more
          mine += more
          return undefined
        },
        release () {
          if (released) return
          released = true
          reservedBytes -= mine
          holder.bytes -= mine
          if (--holder.requests === 0) held.delete(client)
          inFlight--
        }
      }
    },
    stats (): UploadBudgetStats {
      return { inFlight, clients: held.size, reservedBytes, maxBytes, perClientBytes, saturated: maxBytes - reservedBytes < largestBody }
    }
  }
}

export type UploadBudget = ReturnType<typeof createUploadBudget>
