import { ClientShares } from '../clients/client-shares.js'
import { ClientEventStreamsError, TooManyEventStreamsError } from '../errors.js'

/**
 * Open event streams, in all and by client: a stream holds a socket and memory for as long as its
 * job runs (hours), so one client may hold at most its share, and the process at most `max`.
 */
export class EventStreamSlots {
  readonly #shares: ClientShares

  constructor (readonly max: number, readonly perClient: number) {
    this.#shares = new ClientShares(max, perClient)
  }

  /** A slot for `client`, or a ClientEventStreamsError (429) or TooManyEventStreamsError (503); returns its release. */
  take (client: string): () => void {
    const refused = this.#shares.take(client, 1)
    if (refused === 'share') throw new ClientEventStreamsError(this.perClient)
    if (refused === 'full') throw new TooManyEventStreamsError(this.max)
    let released = false
    return () => {
      if (released) return
      released = true
      this.#shares.give(client, 1)
    }
  }

  get open (): number {
    return this.#shares.total
  }
}
