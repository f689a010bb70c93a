import { ClientEventStreamsError, TooManyEventStreamsError } from '../errors.js'

/**
 * Open event streams, in all and by client: a stream holds a socket and memory for as long as its
 * job runs (hours), so one client may hold at most its share, and the process at most `max`.
 */
export class EventStreamSlots {
  #open = 0
  readonly #byClient = new Map<string, number>()

  constructor (readonly max: number, readonly perClient: number) {}

  /** A slot for `client`, or a ClientEventStreamsError (429) or TooManyEventStreamsError (503); returns its release. */
  take (client: string): () => void {
    const held = this.#byClient.get(client) ?? 0
    if (held >= this.perClient) throw new ClientEventStreamsError(this.perClient)
    if (this.#open >= this.max) throw new TooManyEventStreamsError(this.max)
    this.#open++
    this.#byClient.set(client, held + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      this.#open--
      const left = (this.#byClient.get(client) ?? 1) - 1
      if (left === 0) this.#byClient.delete(client)
      else this.#byClient.set(client, left)
    }
  }

  get open (): number {
    return this.#open
  }
}
