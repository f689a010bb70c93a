/** What waits in a fair queue: something of an estimated cost, on behalf of a client. */
export interface FairItem {
  client: string
  costMs: number
}

interface ClientQueue<T> {
  items: T[]
  /** Estimated work of the items waiting. */
  costMs: number
  /** Work handed out to this client, on the queue's virtual clock. */
  served: number
}

/** Clients whose queue emptied are remembered until the clock passes them, at most this many. */
const REMEMBERED_CLIENTS = 10_000

/**
 * Work waiting for a thread, one FIFO per client, handed out so that every client with work waiting
 * gets an equal share of the threads' time, whatever the size or number of its requests: the next
 * item is the head of the client served least so far (start-time fair queueing on estimated cost).
 * A client that starts waiting joins at the clock's current value, or at its own earlier account if
 * that is ahead: it gets no credit for time it was idle, and loses no debt by letting its queue
 * empty for a moment (a client whose requests are all cut by short deadlines does that).
 */
export class FairQueue<T extends FairItem> {
  private readonly clients = new Map<string, ClientQueue<T>>()
  /** What clients with nothing waiting had been served, while that is ahead of the clock. */
  private readonly accounts = new Map<string, number>()
  private clock = 0
  /** Items waiting. */
  length = 0
  /** Estimated work of the items waiting. */
  costMs = 0

  push (item: T): void {
    let queue = this.clients.get(item.client)
    if (queue === undefined) {
      queue = { items: [], costMs: 0, served: Math.max(this.clock, this.accounts.get(item.client) ?? 0) }
      this.accounts.delete(item.client)
      this.clients.set(item.client, queue)
    }
    queue.items.push(item)
    queue.costMs += item.costMs
    this.length++
    this.costMs += item.costMs
  }

  /** The next item to run, or undefined when nothing waits. */
  shift (): T | undefined {
    let next: ClientQueue<T> | undefined
    for (const queue of this.clients.values()) if (next === undefined || queue.served < next.served) next = queue
    if (next === undefined) return undefined
    const item = next.items.shift()!
    this.clock = next.served
    next.served += item.costMs
    this.take(next, item)
    return item
  }

  /**
   * Accounts for an item handed out without waiting (a thread was free and nothing waited), so a
   * client that always finds a free thread still pays for the time it takes once others wait.
   */
  charge (item: FairItem): void {
    const queue = this.clients.get(item.client)
    if (queue !== undefined) {
      queue.served += item.costMs
      return
    }
    const start = Math.max(this.clock, this.accounts.get(item.client) ?? 0)
    // Nothing waits, so this is the work in service: the clock moves to it.
    if (this.length === 0) this.clock = start
    this.remember(item.client, start + item.costMs)
  }

  /** Takes a waiting item out (its request was aborted); false if it was not waiting. */
  remove (item: T): boolean {
    const queue = this.clients.get(item.client)
    const at = queue?.items.indexOf(item) ?? -1
    if (at < 0) return false
    queue!.items.splice(at, 1)
    this.take(queue!, item)
    return true
  }

  /** Estimated work waiting on behalf of `client`. */
  costOf (client: string): number {
    return this.clients.get(client)?.costMs ?? 0
  }

  /** Clients with work waiting. */
  get clientCount (): number {
    return this.clients.size
  }

  private remember (client: string, served: number): void {
    if (this.accounts.size >= REMEMBERED_CLIENTS) {
      for (const [other, account] of this.accounts) if (account <= this.clock) this.accounts.delete(other)
      // Still full: forget the oldest, which is the cheapest to lose.
      if (this.accounts.size >= REMEMBERED_CLIENTS) this.accounts.delete(this.accounts.keys().next().value!)
    }
    this.accounts.set(client, served)
  }

  private take (queue: ClientQueue<T>, item: T): void {
    queue.costMs -= item.costMs
    this.length--
    this.costMs -= item.costMs
    if (queue.items.length === 0) {
      this.clients.delete(item.client)
      if (queue.served > this.clock) this.remember(item.client, queue.served)
    }
    // Sums of floats drift: snap to zero when nothing is left.
    if (this.length === 0) this.costMs = 0
  }
}

/**
 * Classes of service: `request` work (a client is waiting on the answer) and `job` work (a chunk of
 * a long job, src/jobs). The job lane's whole policy is here: a job chunk starts only while no
 * request waits, at most `jobThreads` run at once, in the order they came, and none is ever refused
 * (it is not admitted against the request queue's bound, and does not count in it).
 */
export type ServiceClass = 'request' | 'job'

/** All threads but one: a request always finds a thread, or waits for at most one request's chunk. */
export const defaultJobThreads = (threads: number) => Math.max(1, threads - 1)

/** Whether work of this class is admitted against the request queue's bound (createExecutor), or simply waits. */
export const isAdmitted = (serviceClass: ServiceClass) => serviceClass === 'request'

/** Work waiting for a thread in both classes: requests fairly between clients, then jobs. */
export class ServiceQueue<T extends FairItem & { serviceClass: ServiceClass }> {
  /** Request work, fair between clients. */
  readonly requests = new FairQueue<T>()
  readonly #jobs: T[] = []
  #runningJobs = 0

  constructor (private readonly jobThreads: number) {}

  get length (): number {
    return this.requests.length + this.#jobs.length
  }

  /** Whether work of this class may take a free thread now, ahead of everything waiting. */
  startsAtOnce (serviceClass: ServiceClass): boolean {
    return serviceClass === 'request' ? this.requests.length === 0 : this.length === 0 && this.#jobMayStart()
  }

  push (item: T): void {
    if (item.serviceClass === 'request') this.requests.push(item)
    else this.#jobs.push(item)
  }

  /** The next item for a free thread, or undefined when nothing waiting may start. */
  shift (): T | undefined {
    if (this.requests.length > 0) return this.requests.shift()
    return this.#jobMayStart() ? this.#jobs.shift() : undefined
  }

  remove (item: T): boolean {
    if (item.serviceClass === 'request') return this.requests.remove(item)
    const at = this.#jobs.indexOf(item)
    if (at >= 0) this.#jobs.splice(at, 1)
    return at >= 0
  }

  /** Work of this class started on a thread, and finished: job threads are counted. */
  started (serviceClass: ServiceClass): void {
    if (serviceClass === 'job') this.#runningJobs++
  }

  finished (serviceClass: ServiceClass): void {
    if (serviceClass === 'job') this.#runningJobs--
  }

  #jobMayStart (): boolean {
    return this.requests.length === 0 && this.#runningJobs < this.jobThreads
  }
}
