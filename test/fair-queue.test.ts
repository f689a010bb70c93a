import { describe, expect, it } from 'vitest'
import { FairQueue, isAdmitted, ServiceQueue, type ServiceClass } from '../src/executor/fair-queue.js'

interface Item { client: string, costMs: number, id: string }
const item = (client: string, costMs: number, id: string): Item => ({ client, costMs, id })
const drain = (queue: FairQueue<Item>) => { const order: string[] = []; for (let next = queue.shift(); next !== undefined; next = queue.shift()) order.push(next.id); return order }

describe('the fair queue', () => {
  it('is first in, first out for one client', () => {
    const queue = new FairQueue<Item>()
    for (const id of ['a1', 'a2', 'a3']) queue.push(item('a', 5, id))
    expect(drain(queue)).toEqual(['a1', 'a2', 'a3'])
  })

  it('alternates between clients of equal costs, however many items one of them queued first', () => {
    const queue = new FairQueue<Item>()
    for (let i = 1; i <= 6; i++) queue.push(item('a', 10, `a${i}`))
    queue.push(item('b', 10, 'b1'))
    queue.push(item('b', 10, 'b2'))
    expect(drain(queue)).toEqual(['a1', 'b1', 'a2', 'b2', 'a3', 'a4', 'a5', 'a6'])
  })

  it('shares by estimated cost, not by item count', () => {
    const queue = new FairQueue<Item>()
    queue.push(item('big', 100, 'big1'))
    queue.push(item('big', 100, 'big2'))
    for (let i = 1; i <= 12; i++) queue.push(item('small', 10, `s${i}`))
    const order = drain(queue)
    // After big1 (100 ms), small catches up with ten 10 ms items before big2 runs.
    expect(order.indexOf('big2')).toBeGreaterThan(order.indexOf('s10'))
    expect(order.indexOf('big2')).toBeLessThan(order.indexOf('s12'))
  })

  it('gives a client that was idle no credit for its idle time', () => {
    const queue = new FairQueue<Item>()
    for (let i = 1; i <= 4; i++) queue.push(item('a', 10, `a${i}`))
    expect(drain(queue)).toHaveLength(4)
    for (let i = 5; i <= 7; i++) queue.push(item('a', 10, `a${i}`))
    queue.push(item('b', 10, 'b1'))
    queue.push(item('b', 10, 'b2'))
    queue.push(item('b', 10, 'b3'))
    // Alternation, b first: a still owes for the item it was handed last.
    expect(drain(queue)).toEqual(['b1', 'a5', 'b2', 'a6', 'b3', 'a7'])
  })

  it('lets a newcomer in next, ahead of a long backlog', () => {
    const queue = new FairQueue<Item>()
    for (let i = 1; i <= 50; i++) queue.push(item('a', 10, `a${i}`))
    queue.shift()
    queue.shift()
    queue.push(item('b', 10, 'b1'))
    expect(queue.shift()?.id).toBe('b1')
  })

  it('counts items and estimated cost in all and per client, and forgets removed items', () => {
    const queue = new FairQueue<Item>()
    const a2 = item('a', 20, 'a2')
    queue.push(item('a', 10, 'a1'))
    queue.push(a2)
    queue.push(item('b', 5, 'b1'))
    expect([queue.length, queue.costMs, queue.costOf('a'), queue.costOf('b'), queue.clientCount]).toEqual([3, 35, 30, 5, 2])
    expect(queue.remove(a2)).toBe(true)
    expect(queue.remove(a2)).toBe(false)
    expect([queue.length, queue.costMs, queue.costOf('a')]).toEqual([2, 15, 10])
    expect(drain(queue)).toEqual(['a1', 'b1'])
    expect([queue.length, queue.costMs, queue.clientCount, queue.costOf('a')]).toEqual([0, 0, 0, 0])
  })
})

describe('the fair queue, with a client whose queue keeps emptying', () => {
  it('keeps that client\'s account, so it cannot jump ahead each time it comes back', () => {
    const queue = new FairQueue<Item>()
    for (let i = 1; i <= 3; i++) queue.push(item('b', 10, `b${i}`))
    const order: string[] = []
    // "a" sends one item at a time, and it is taken (or cut by its deadline) before the next comes.
    for (let round = 1; round <= 6; round++) {
      queue.push(item('a', 10, `a${round}`))
      order.push(queue.shift()!.id)
    }
    expect(order.filter((id) => id.startsWith('b')).length).toBe(3)
  })
})

describe('the fair queue, with work handed out without waiting', () => {
  it('charges it, so the client that took free threads waits behind one that did not', () => {
    const queue = new FairQueue<Item>()
    queue.charge(item('a', 50, 'direct'))
    queue.push(item('a', 10, 'a1'))
    queue.push(item('b', 10, 'b1'))
    expect(drain(queue)).toEqual(['b1', 'a1'])
  })

  it('moves the clock along while nothing waits, so a client alone runs up no debt beyond its last item', () => {
    const queue = new FairQueue<Item>()
    for (let i = 0; i < 100; i++) queue.charge(item('a', 10, `direct${i}`))
    queue.push(item('b', 10, 'b1'))
    queue.push(item('b', 10, 'b2'))
    queue.push(item('a', 10, 'a1'))
    // a owes only for its last item: b goes first, then they tie (older queue first), then a.
    expect(drain(queue)).toEqual(['b1', 'b2', 'a1'])
    queue.push(item('b', 10, 'b3'))
    queue.push(item('a', 10, 'a2'))
    expect(drain(queue)).toEqual(['b3', 'a2'])
  })
})

describe('the classes of service: the job lane\'s policy', () => {
  const work = (serviceClass: ServiceClass, id: string) => ({ client: 'c', costMs: serviceClass === 'job' ? 0 : 5, id, serviceClass })

  it('hands out every waiting request before any job chunk, and a job chunk only below jobThreads running', () => {
    const queue = new ServiceQueue<ReturnType<typeof work>>(1)
    queue.push(work('job', 'j1'))
    queue.push(work('job', 'j2'))
    queue.push(work('request', 'r1'))
    expect(queue.startsAtOnce('job')).toBe(false)
    expect(queue.shift()?.id).toBe('r1')
    expect(queue.shift()?.id).toBe('j1')
    queue.started('job')
    // One job thread is taken: j2 waits, while a request would start at once.
    expect(queue.shift()).toBeUndefined()
    expect(queue.startsAtOnce('request')).toBe(true)
    queue.finished('job')
    expect(queue.shift()?.id).toBe('j2')
  })

  it('admits requests against the queue bound and never refuses job work, which does not count in it', () => {
    expect(isAdmitted('request')).toBe(true)
    expect(isAdmitted('job')).toBe(false)
    const queue = new ServiceQueue<ReturnType<typeof work>>(1)
    queue.push(work('job', 'j1'))
    expect(queue.requests.costMs).toBe(0)
    expect(queue.length).toBe(1)
  })
})
