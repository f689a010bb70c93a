import { describe, expect, it } from 'vitest'
import { jsonDepthExceeds } from '../src/uploads/json-depth.js'

describe('the JSON depth check', () => {
  it('counts arrays and objects, and nothing inside strings', () => {
    expect(jsonDepthExceeds('{"values":[1,2,[3]]}', 3)).toBe(false)
    expect(jsonDepthExceeds('{"values":[1,2,[[3]]]}', 3)).toBe(true)
    expect(jsonDepthExceeds('{"a":"[[[[[[{{{{"}', 1)).toBe(false)
    expect(jsonDepthExceeds('{"a":"\\"[[[["}', 1)).toBe(false)
    expect(jsonDepthExceeds('{"a":"\\\\",[[[1]]]}', 2)).toBe(true)
  })

  it('takes milliseconds for 1 MiB nested half a million deep', () => {
    const text = '['.repeat(2 ** 19) + ']'.repeat(2 ** 19)
    expect(jsonDepthExceeds(text, 32)).toBe(true)
    expect(jsonDepthExceeds(`[${'1,'.repeat(2 ** 19)}1]`, 32)).toBe(false)
  })
})
