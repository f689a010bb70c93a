import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addValues } from '../src/compute/float64-bins.js'
import { addValuesInPlace, addValuesWasm, valuesInWasm } from '../src/compute/float64-bins-wasm.js'
import { createSuperaccumulator } from '../src/compute/superaccumulator.js'
import { fixtures, fromBits, generateInput } from './fixtures/generated-inputs.js'

const MAX = Number.MAX_VALUE
const TINY = Number.MIN_VALUE
/** The kernel copies values in blocks of this many (BLOCK_VALUES in assembly/exact-sum.ts). */
const BLOCK = 32768

/** Both kernels' states, carries propagated: equal arrays mean equal exact sums, not just equal roundings. */
function states (values: Float64Array): { js: number[], wasm: number[], jsNonFinite: boolean, wasmNonFinite: boolean } {
  const js = createSuperaccumulator()
  const wasm = createSuperaccumulator()
  const jsNonFinite = addValues(js, values)
  const wasmNonFinite = addValuesWasm!(wasm, values)
  return { js: Array.from(js), wasm: Array.from(wasm), jsNonFinite, wasmNonFinite }
}

function expectSameState (values: Float64Array): void {
  const { js, wasm, jsNonFinite, wasmNonFinite } = states(values)
  expect(wasm).toEqual(js)
  expect(wasmNonFinite).toBe(jsNonFinite)
}

/** Doubles of every kind (subnormals, ±0, ±MAX, both signs of each exponent), and values that cancel. */
const finiteDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.double({ noNaN: true, min: -1e-300, max: 1e-300 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(1e308, -1e308, MAX, -MAX, TINY, -TINY, 2 ** -1022, -(2 ** -1022), 2 ** -53, 1, -1, 0, -0)
)

describe('the WebAssembly exact-sum kernel', () => {
  // Every x64 CPU with SSE4.1 runs WebAssembly SIMD: losing the kernel would silently cost its speed.
  it('loads on this machine', () => {
    expect(addValuesWasm).toBeTypeOf('function')
  })

  it.each(fixtures.vectors.map((vector) => [vector.name, vector] as const))('equals the JavaScript kernel on fixture %s', (_name, vector) => {
    expectSameState(Float64Array.from(vector.values.map(fromBits)))
  })

  it.each(fixtures.generated.map((vector) => [vector.kind, vector.count, vector] as const))(
    'equals the JavaScript kernel on a long generated input: %s, %d values', (_kind, _count, vector) => {
      expectSameState(generateInput(vector.kind, vector.seed, vector.count))
    })

  it('equals the JavaScript kernel on random inputs of every length modulo the four lanes', () => {
    fc.assert(fc.property(fc.array(finiteDouble, { maxLength: 70 }), (values) => {
      expectSameState(Float64Array.from(values))
    }), { numRuns: 2000 })
  })

  it('equals the JavaScript kernel with NaN and infinities mixed in, and reports them', () => {
    const anyDouble = fc.oneof(finiteDouble, fc.constantFrom(NaN, Infinity, -Infinity))
    fc.assert(fc.property(fc.array(anyDouble, { maxLength: 40 }), (values) => {
      expectSameState(Float64Array.from(values))
    }), { numRuns: 1000 })
  })

  it('carries over block boundaries: copies of one value with a full low word, around one and two blocks', () => {
    const fullLowWord = 1 + (2 ** 32 - 1) * 2 ** -52
    for (const count of [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3]) {
      const values = new Float64Array(count).fill(fullLowWord)
      values[count - 1] = -TINY
      expectSameState(values)
    }
  })

  it('cancels to exactly zero where every value has its negation', () => {
    const values = Float64Array.from([MAX, TINY, 1e-300, 0.1, -MAX, -TINY, -1e-300, -0.1])
    const wasm = createSuperaccumulator()
    addValuesWasm!(wasm, values)
    expect(wasm.every((chunk) => chunk === 0)).toBe(true)
  })

  it('adds into a state that already holds a sum, as a chunk of a request does', () => {
    fc.assert(fc.property(fc.array(finiteDouble, { maxLength: 30 }), fc.array(finiteDouble, { maxLength: 30 }), (first, second) => {
      const js = createSuperaccumulator()
      const wasm = createSuperaccumulator()
      addValues(js, Float64Array.from(first))
      addValues(js, Float64Array.from(second))
      addValuesWasm!(wasm, Float64Array.from(first))
      addValuesWasm!(wasm, Float64Array.from(second))
      expect(Array.from(wasm)).toEqual(Array.from(js))
    }), { numRuns: 300 })
  })

  it('gives the same state on values kept in its own memory (the benchmarks\' path)', () => {
    const values = generateInput('wide', 7, 10_001)
    const inPlace = valuesInWasm(values.length)
    inPlace.set(values)
    const wasm = createSuperaccumulator()
    addValuesInPlace(wasm, inPlace)
    const js = createSuperaccumulator()
    addValues(js, values)
    expect(Array.from(wasm)).toEqual(Array.from(js))
  })
})
