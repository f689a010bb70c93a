import { describe, expect, it } from 'vitest'
import { createUploadBudget } from '../src/upload-budget.js'
import { defaultUploadMemory, processMemoryLimit } from '../src/upload-memory.js'

describe('the upload memory budget', () => {
  it('reserves up to its bound and refuses past it, reserving nothing for a refusal', () => {
    const budget = createUploadBudget(100, 40)
    const first = budget.reserve(60)!
    expect(budget.reserve(50)).toBeUndefined()
    expect(budget.stats()).toEqual({ inFlight: 1, reservedBytes: 60, maxBytes: 100, saturated: false })
    expect(first.grow(40)).toBe(true)
    expect(first.grow(1)).toBe(false)
    expect(budget.stats()).toMatchObject({ reservedBytes: 100, saturated: true })
  })

  it('gives everything back once, however often it is released', () => {
    const budget = createUploadBudget(100, 10)
    const reservation = budget.reserve(30)!
    reservation.grow(20)
    reservation.release()
    reservation.release()
    expect(reservation.grow(5)).toBe(false)
    expect(budget.stats()).toEqual({ inFlight: 0, reservedBytes: 0, maxBytes: 100, saturated: false })
  })

  it('is saturated while a body of the largest size would not fit', () => {
    const budget = createUploadBudget(100, 50)
    const reservation = budget.reserve(51)!
    expect(budget.stats().saturated).toBe(true)
    reservation.release()
    expect(budget.stats().saturated).toBe(false)
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
