/** One GET /probe round trip, as the sampler saw it. Times are epoch milliseconds (fractional). */
export interface ProbeSample {
  /** When the request was sent. */
  at: number
  /** The fixed-rate slot it was meant for: later than `at` never, earlier when the previous probe ran over. */
  scheduledAt: number
  rttMs: number
  /** HTTP status; 0 when the request failed. */
  status: number
  error?: string
  /** The server's own event-loop delay p99 over its recent window, as /probe reported it. */
  loopDelayP99Ms?: number
  loopUtilization?: number
  poolUtilization?: number
}

export type SamplerMessage =
  | { type: 'ready' }
  | { type: 'stop' }
  | { type: 'samples', samples: ProbeSample[] }
