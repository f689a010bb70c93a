import { describe, expect, it } from 'vitest'
import { Cancellation, childOf, onAbort } from '../src/executor/cancellation.js'

describe('Cancellation', () => {
  it('aborts once, keeping the first reason, and tells its listeners', () => {
    const signal = new Cancellation()
    const heard: unknown[] = []
    onAbort(signal, () => heard.push(signal.reason))
    signal.abort('first')
    signal.abort('second')
    expect([signal.aborted, signal.reason, heard]).toEqual([true, 'first', ['first']])
    expect(() => signal.throwIfAborted()).toThrow('first')
  })

  it('stops telling a listener that was released', () => {
    const signal = new Cancellation()
    let heard = false
    onAbort(signal, () => { heard = true })()
    signal.abort('late')
    expect(heard).toBe(false)
  })
})

describe('childOf', () => {
  it.each([
    ['a Cancellation', () => new Cancellation()],
    ['an AbortSignal', () => new AbortController()]
  ])('aborts with its parent (%s) and its reason', (_name, make) => {
    const parent = make()
    const { child } = childOf(parent instanceof Cancellation ? parent : parent.signal, 4)
    parent.abort('deadline')
    expect([child.aborted, child.reason]).toEqual([true, 'deadline'])
  })

  it('is born aborted under an aborted parent, and independent once released', () => {
    const aborted = new Cancellation()
    aborted.abort('gone')
    expect(childOf(aborted, 1).child.aborted).toBe(true)

    const parent = new Cancellation()
    const { child, release } = childOf(parent, 1)
    release()
    parent.abort('after release')
    expect(child.aborted).toBe(false)
  })

  it('can abort alone, without its parent', () => {
    const parent = new Cancellation()
    const { child } = childOf(parent, 1)
    child.abort('sibling failed')
    expect([child.aborted, parent.aborted]).toEqual([true, false])
  })
})
