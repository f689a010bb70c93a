import type { IncomingMessage } from 'node:http'
import { performance } from 'node:perf_hooks'
import { Readable } from 'node:stream'
import { UploadTooSlowError } from '../errors.js'
import type { Reservation, UploadRefusal } from './upload-budget.js'

export interface UploadRules {
  /** Largest body accepted, in bytes. */
  limit: number
  /** The 413 for a body past `limit`. */
  tooLarge: () => Error
  /** The 429 or 503 for a body without Content-Length that outgrows its client's share or the budget. */
  refused: (why: UploadRefusal) => Error
  /** Bytes reserved per byte received, for a body without Content-Length (one with it reserved up front). */
  reservePerByte: number
  /** Fewest bytes per second over any `rateWindowMs` (or what is left of the body); 0 turns the rule off. */
  minBytesPerSecond: number
  rateWindowMs: number
}

/**
 * The request body as the compute routes' parsers read it: the socket's bytes passed through
 * unchanged, counted on the way. It ends the upload with an error (and so the request with an
 * answer: Fastify then closes the connection) when the body passes its limit, when a body without
 * Content-Length outgrows its client's share or the memory budget, when it arrives too slowly, or when `cut` is called
 * (the deadline, shutdown). The parser's partial body is dropped with it.
 */
export class UploadMeter extends Readable {
  /** Bytes received so far; Fastify's own body reader compares it with Content-Length. */
  receivedEncodedLength = 0
  private windowStartedAt = performance.now()
  private windowStartBytes = 0
  private ended = false

  constructor (
    private readonly source: IncomingMessage,
    private readonly declared: number | undefined,
    private readonly reservation: Reservation,
    private readonly rules: UploadRules
  ) {
    super()
    // The parser listens for errors; one that refused the body unread must not leave a cut to crash the process.
    this.on('error', () => {})
    source.on('data', this.onData)
    source.on('end', this.onEnd)
    source.on('error', this.onError)
  }

  /** True until the whole body has arrived and nothing has cut it. */
  get incomplete (): boolean {
    return !this.ended && !this.destroyed
  }

  /** Ends the upload with `error`, unless the body has already arrived. */
  cut (error: Error): void {
    if (!this.incomplete) return
    this.detach()
    this.destroy(error)
  }

  /** Lets go of the body once the request is answered, whether or not it was read. */
  dispose (): void {
    if (this.destroyed) return
    this.detach()
    this.destroy()
  }

  /**
   * Cuts the upload if, over the window just ended, it brought fewer bytes than the minimum rate
   * asks for (or than it had left, for its last ones). Called every second or so.
   */
  checkRate (now = performance.now()): void {
    const { minBytesPerSecond, rateWindowMs } = this.rules
    if (minBytesPerSecond === 0 || !this.incomplete || now - this.windowStartedAt < rateWindowMs) return
    const received = this.receivedEncodedLength - this.windowStartBytes
    const left = this.declared === undefined ? Infinity : this.declared - this.windowStartBytes
    const required = Math.min(left, minBytesPerSecond * (now - this.windowStartedAt) / 1000)
    if (received < required) return this.cut(new UploadTooSlowError(minBytesPerSecond))
    this.windowStartedAt = now
    this.windowStartBytes = this.receivedEncodedLength
  }

  /** Starts a new window now: after the service's own event loop stalled, the client is not to blame for what it could not deliver. */
  restartWindow (now = performance.now()): void {
    this.windowStartedAt = now
    this.windowStartBytes = this.receivedEncodedLength
  }

  override _read (): void {
    this.source.resume()
  }

  private readonly onData = (chunk: Buffer) => {
    this.receivedEncodedLength += chunk.length
    if (this.receivedEncodedLength > this.rules.limit) return this.cut(this.rules.tooLarge())
    const refused = this.declared === undefined ? this.reservation.grow(chunk.length * this.rules.reservePerByte) : undefined
    if (refused !== undefined) return this.cut(this.rules.refused(refused))
    if (!this.push(chunk)) this.source.pause()
  }

  private readonly onEnd = () => {
    this.ended = true
    this.detach()
    this.push(null)
  }

  private readonly onError = (error: Error) => {
    this.detach()
    this.destroy(error)
  }

  private detach (): void {
    this.source.removeListener('data', this.onData)
    this.source.removeListener('end', this.onEnd)
    this.source.removeListener('error', this.onError)
    // Swallows a late error of the abandoned socket (a reset after the answer) that nobody else would handle.
    this.source.on('error', () => {})
  }
}
