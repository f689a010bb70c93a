/** One request's share of the upload budget: what it has reserved, and the means to grow or return it. */
export interface Reservation {
  readonly bytes: number
  /** Reserves `bytes` more; false, with nothing reserved, when the budget cannot take them. */
  grow(bytes: number): boolean
  /** Returns everything reserved; later calls do nothing. */
  release(): void
}

export interface UploadBudgetStats {
  /** Requests holding a reservation: bodies being read, or read and not yet answered. */
  inFlight: number
  reservedBytes: number
  maxBytes: number
  /** True while a body of the largest size would be refused. */
  saturated: boolean
}

/**
 * The memory that request bodies in flight may hold, counted in bytes reserved before they arrive.
 * Body memory lives mostly outside the V8 heap (Buffers, SharedArrayBuffers), where heap-based load
 * shedding never sees it; this is what bounds it.
 */
export function createUploadBudget (maxBytes: number, largestBody: number) {
  let reservedBytes = 0
  let inFlight = 0

  return {
    /** A reservation of `bytes`, or undefined when the budget cannot take them now. */
    reserve (bytes: number): Reservation | undefined {
      if (reservedBytes + bytes > maxBytes) return undefined
      reservedBytes += bytes
      inFlight++
      let held = bytes
      let released = false
      return {
        get bytes () { return held },
        grow (more) {
          if (released) return false
          if (reservedBytes + more > maxBytes) return false
          reservedBytes += more
          held += more
          return true
        },
        release () {
          if (released) return
          released = true
          reservedBytes -= held
          inFlight--
        }
      }
    },
    stats (): UploadBudgetStats {
      return { inFlight, reservedBytes, maxBytes, saturated: maxBytes - reservedBytes < largestBody }
    }
  }
}

export type UploadBudget = ReturnType<typeof createUploadBudget>
