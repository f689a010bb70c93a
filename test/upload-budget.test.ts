import { describe, expect, it } from 'vitest'
import { createUploadBudget, type Reservation, type UploadRefusal } from '../src/uploads/upload-budget.js'
import { defaultUploadMemory, processMemoryLimit } from '../src/uploads/upload-memory.js'

describe('the upload memory budget', () => {
  const reserved = (result: Reservation | UploadRefusal): Reservation => {
    if (typeof result === 'string') throw new Error(`refused: ${result}`)
    return result
  }

  it('reserves up to its bound and refuses past it, reserving nothing for a refusal', () => {
    const budget = createUploadBudget(100, 40)
    const first = reserved(budget.reserve(60, 'a'))
    expect(budget.reserve(50, 'b')).toBe('full')
    expect(budget.stats()).toEqual({ inFlight: 1, clients: 1, reservedBytes: 60, maxBytes: 100, perClientBytes: 100, saturated: false })
    expect(first.grow(40)).toBeUndefined()
    expect(first.grow(1)).toBe('full')
    expect(budget.stats()).toMatchObject({ reservedBytes: 100, saturated: true })
  })

  it('gives everything back once, however often it is released', () => {
    const budget = createUploadBudget(100, 10)
    const reservation = reserved(budget.reserve(30, 'a'))
    reservation.grow(20)
    reservation.release()
    reservation.release()
    expect(reservation.grow(5)).toBe('full')
    expect(budget.stats()).toEqual({ inFlight: 0, clients: 0, reservedBytes: 0, maxBytes: 100, perClientBytes: 100, saturated: false })
  })

  it('is saturated while a body of the largest size would not fit', () => {
    const budget = createUploadBudget(100, 50)
    const reservation = reserved(budget.reserve(51, 'a'))
    expect(budget.stats().saturated).toBe(true)
    reservation.release()
    expect(budget.stats().saturated).toBe(false)
  })

  it('refuses a client past its own share, growing or reserving, while another client still reserves', () => {
    const budget = createUploadBudget(100, 25, 25)
    const first = reserved(budget.reserve(20, 'a'))
    expect(budget.reserve(10, 'a')).toBe('share')
    expect(first.grow(6)).toBe('share')
    const other = reserved(budget.reserve(25, 'b'))
    expect(budget.stats()).toMatchObject({ inFlight: 2, clients: 2, reservedBytes: 45 })
    first.release()
    expect(budget.stats()).toMatchObject({ inFlight: 1, clients: 1, reservedBytes: 25 })
    expect(typeof budget.reserve(25, 'a')).toBe('object')
    other.release()
  })

  it('refuses with the budget when it is full, whether or not the client is within its share', () => {
    const budget = createUploadBudget(50, 25, 25)
    reserved(budget.reserve(25, 'a'))
    reserved(budget.reserve(25, 'b'))
    expect(budget.reserve(1, 'c')).toBe('full')
    expect(budget.reserve(1, 'a')).toBe('full')
  })
})

describe('the default upload memory', () => {
  const GiB = 1024 ** 3
  it('is a quarter of the cgroup limit when there is one, else of the machine', () => {
    expect(processMemoryLimit(GiB, 24 * GiB)).toBe(GiB)
    expect(processMemoryLimit(0, 24 * GiB)).toBe(24 * GiB)
    expect(processMemoryLimit(2 ** 64, 24 * GiB)).toBe(24 * GiB) // "no limit", as cgroup v1 reports it
    expect(defaultUploadMemory(GiB)).toBe(GiB / 4)
  })
})
