/** Why a client may not take more: it is past its own share (its fault, 429), or the whole is full (503). */
export type ShareRefusal = 'share' | 'full'

/**
 * An amount of one resource held by each client and in all, each with its cap: the one model issue
 * 17 applies to what a client can hold (upload memory, JSON waiting to be parsed, event streams).
 * Which refusal wins when both apply is the resource's call: `full-first` when a full resource is
 * the service's state whoever asks.
 */
export class ClientShares {
  #total = 0
  readonly #byClient = new Map<string, number>()

  constructor (readonly max: number, readonly perClient: number, readonly order: 'share-first' | 'full-first' = 'share-first') {}

  /** Why `client` may not take `amount` more now, or undefined. */
  refusal (client: string, amount: number): ShareRefusal | undefined {
    const share = this.held(client) + amount > this.perClient
    const full = this.#total + amount > this.max
    if (this.order === 'full-first') return full ? 'full' : share ? 'share' : undefined
    return share ? 'share' : full ? 'full' : undefined
  }

  /** Takes `amount` for `client`, or says why not (and takes nothing). */
  take (client: string, amount: number): ShareRefusal | undefined {
    const refused = this.refusal(client, amount)
    if (refused !== undefined) return refused
    this.#total += amount
    this.#byClient.set(client, this.held(client) + amount)
    return undefined
  }

  /** Gives back `amount` that `client` took. */
  give (client: string, amount: number): void {
    this.#total -= amount
    const left = this.held(client) - amount
    if (left > 0) this.#byClient.set(client, left)
    else this.#byClient.delete(client)
  }

  held (client: string): number {
    return this.#byClient.get(client) ?? 0
  }

  get total (): number {
    return this.#total
  }

  /** Clients holding some of it. */
  get clients (): number {
    return this.#byClient.size
  }
}
