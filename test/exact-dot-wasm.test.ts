import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { addProducts, addSquares, DOT_LIMBS } from '../src/compute/dot.js'
import { DOT_KERNELS, dotKernel, loadDotKernel, type DotKernel } from '../src/compute/dot-wasm.js'
import { compiledPath } from '../src/platform/paths.js'
import { addValues } from '../src/compute/float64-bins.js'
import { createSuperaccumulator } from '../src/compute/superaccumulator.js'
import { fromBits, generateInput, type GeneratedKind } from './fixtures/generated-inputs.js'

interface DotVector { name: string, x: string[], y: string[] }
interface GeneratedDotVector { x: { kind: GeneratedKind, seed: number }, y: { kind: GeneratedKind, seed: number }, count: number }
const fixtures = JSON.parse(readFileSync(new URL('./fixtures/dot-vectors.json', import.meta.url), 'utf8')) as {
  vectors: DotVector[]
  generated: GeneratedDotVector[]
}

const MAX = Number.MAX_VALUE
const TINY = Number.MIN_VALUE
/** The kernel copies pairs in blocks of this many (BLOCK_PAIRS in assembly/exact-dot.ts). */
const BLOCK = 16384

/** x then y in one buffer, the layout of a request. */
function layout (x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  const values = new Float64Array(2 * x.length)
  values.set(x)
  values.set(y, x.length)
  return values
}

/**
 * Both kernels' states, carries propagated, over pairs [start, end): equal arrays mean equal exact
 * dot products. Where a factor is NaN or infinite both must say so, and the state means nothing.
 */
function expectSameState (kernel: DotKernel, values: Float64Array, start = 0, end = values.length / 2): void {
  const n = values.length / 2
  const js = createSuperaccumulator(DOT_LIMBS)
  const wasm = createSuperaccumulator(DOT_LIMBS)
  const jsNonFinite = addProducts(js, values, n, start, end)
  // Undefined hands the chunk to the JavaScript kernel (as src/compute/dot.ts does), only for a factor of 2^1023 or more.
  const wasmNonFinite = kernel.addProducts(wasm, values, n, start, end) ?? addProducts(wasm, values, n, start, end)
  expect(wasmNonFinite).toBe(jsNonFinite)
  if (!jsNonFinite) expect(Array.from(wasm)).toEqual(Array.from(js))
}

/**
 * The stats' pass against the JavaScript kernels: the values' sum (addValues), their squares'
 * (addSquares) and min and max, state for state; NaN and infinities reported as addValues does.
 */
function expectSameSums (kernel: DotKernel, values: Float64Array): void {
  const jsSum = createSuperaccumulator()
  const js = createSuperaccumulator(DOT_LIMBS)
  const wasmSum = createSuperaccumulator()
  const wasm = createSuperaccumulator(DOT_LIMBS)
  const jsExtremes = Float64Array.of(Infinity, -Infinity)
  const wasmExtremes = Float64Array.of(Infinity, -Infinity)
  const jsNonFinite = addValues(jsSum, values)
  const verdict = kernel.addSums(wasmSum, wasm, values, wasmExtremes)
  expect(verdict === 'non-finite').toBe(jsNonFinite)
  if (jsNonFinite) return
  expect(Array.from(wasmSum)).toEqual(Array.from(jsSum))
  addSquares(js, values, 0, values.length, jsExtremes)
  // 'sum-only' leaves the squares to the JavaScript kernel, untouched, only for a value of 2^1023 or more.
  expect(verdict).toBe(values.some((value) => Math.abs(value) >= 2 ** 1023) ? 'sum-only' : 'both')
  if (verdict === 'sum-only') {
    expect(wasm.every((chunk) => chunk === 0)).toBe(true)
    expect(Array.from(wasmExtremes)).toEqual([Infinity, -Infinity])
    return
  }
  expect(Array.from(wasm)).toEqual(Array.from(js))
  // === : a zero extreme's sign is left to stats.ts (the first zero of the values).
  expect(wasmExtremes[0] === jsExtremes[0] && wasmExtremes[1] === jsExtremes[1]).toBe(true)
}

/** Doubles of every kind: any exponent, subnormals, ±0, factors whose products overflow or underflow. */
const finiteDouble = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.double({ noNaN: true, min: -1e-300, max: 1e-300 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.constantFrom(1e300, -1e300, 1e-300, MAX / 2, TINY, -TINY, 2 ** -1022, 2 ** -537, 1 + 2 ** -52, 1, -1, 0, -0)
)
const pairs = (maxLength: number) => fc.array(fc.tuple(finiteDouble, finiteDouble), { maxLength })
const unzip = (list: Array<[number, number]>) => [list.map((pair) => pair[0]), list.map((pair) => pair[1])] as const

const kernels = DOT_KERNELS.map((name) => [name, loadDotKernel(name)] as const)

describe('the WebAssembly exact-dot kernel', () => {
  it('loads on this machine, the relaxed-SIMD build where the engine validates it and fuses its multiply-add', () => {
    expect(dotKernel?.name).toBe(kernels.find(([, kernel]) => kernel !== undefined)?.[0])
    expect(loadDotKernel('exact-dot')).toBeDefined()
  })

  it('falls back to the plain SIMD build where the multiply-add is not fused (V8 without FMA3)', () => {
    const script = `import(${JSON.stringify(compiledPath('src/compute/dot-wasm.js'))}).then((m) => console.log(m.dotKernel.name))`
    const child = spawnSync(process.execPath, ['--no-enable-fma3', '--input-type=module', '-e', script], { encoding: 'utf8' })
    expect(child.stderr).toBe('')
    expect(child.stdout.trim()).toBe('exact-dot')
  })
})

describe.each(kernels.filter(([, kernel]) => kernel !== undefined))('the WebAssembly exact-dot kernel, build %s', (_name, loaded) => {
  const kernel = loaded!

  it.each(fixtures.vectors.map((vector) => [vector.name, vector] as const))('equals the JavaScript kernel on fixture %s', (_name, vector) => {
    expectSameState(kernel, layout(vector.x.map(fromBits), vector.y.map(fromBits)))
  })

  it.each(fixtures.generated.map((vector) => [vector.x.kind, vector.y.kind, vector.count, vector] as const))(
    'equals the JavaScript kernel on long generated inputs: %s by %s, %d pairs', (_x, _y, _count, vector) => {
      expectSameState(kernel, layout(generateInput(vector.x.kind, vector.x.seed, vector.count), generateInput(vector.y.kind, vector.y.seed, vector.count)))
    })

  it('equals the JavaScript kernel on random pairs of every kind, odd counts included', () => {
    fc.assert(fc.property(pairs(41), (list) => {
      const [x, y] = unzip(list)
      expectSameState(kernel, layout(x, y))
    }), { numRuns: 2000 })
  })

  it('equals the JavaScript kernel on any slice of the pairs, as a chunk of a request reads', () => {
    fc.assert(fc.property(pairs(40), fc.nat(), fc.nat(), (list, a, b) => {
      const [x, y] = unzip(list)
      const [start, end] = [a % (list.length + 1), b % (list.length + 1)].sort((p, q) => p - q)
      expectSameState(kernel, layout(x, y), start, end)
    }), { numRuns: 1000 })
  })

  it('hands a factor of 2^1023 or more, which it cannot scale, to the JavaScript kernel, leaving the state untouched', () => {
    for (const values of [layout([MAX, 2 ** 1023, 3], [2 ** -1000, -(2 ** -1000), 0.1]), layout([1, 2, 3], [1, 2, -MAX])]) {
      const state = createSuperaccumulator(DOT_LIMBS)
      expect(kernel.addProducts(state, values, 3, 0, 3)).toBeUndefined()
      expect(state.every((chunk) => chunk === 0)).toBe(true)
      expectSameState(kernel, values)
    }
    const justBelow = layout([2 ** 1022 * (2 - 2 ** -52)], [-(2 ** -1000)])
    expect(kernel.addProducts(createSuperaccumulator(DOT_LIMBS), justBelow, 1, 0, 1)).toBe(false)
  })

  it('reports NaN and infinities as the JavaScript kernel does', () => {
    const anyDouble = fc.oneof(finiteDouble, fc.constantFrom(NaN, Infinity, -Infinity))
    fc.assert(fc.property(fc.array(fc.tuple(anyDouble, anyDouble), { maxLength: 20 }), (list) => {
      const [x, y] = unzip(list)
      expectSameState(kernel, layout(x, y))
    }), { numRuns: 500 })
  })

  it('carries over block boundaries: the largest pieces, around one and two blocks', () => {
    const full = 2 - 2 ** -52
    for (const count of [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3]) {
      const x = new Float64Array(count).fill(full * 2 ** 500)
      const y = new Float64Array(count).fill(-full * 2 ** 400)
      x[count - 1] = TINY
      expectSameState(kernel, layout(x, y))
    }
  })

  it('gives the same state on pairs kept in its own memory (the benchmarks\' path)', () => {
    const count = 10_000
    const values = layout(generateInput('wide', 3, count), generateInput('unit', 4, count))
    const inPlace = kernel.pairsInWasm(count)
    inPlace.set(values)
    const wasm = createSuperaccumulator(DOT_LIMBS)
    const js = createSuperaccumulator(DOT_LIMBS)
    expect(kernel.addProductsInPlace(wasm, inPlace)).toBe(false)
    addProducts(js, values, count, 0, count)
    expect(Array.from(wasm)).toEqual(Array.from(js))
  })

  it('adds the values and their squares as the JavaScript kernels do, min and max included, on random values of every kind, odd counts included', () => {
    fc.assert(fc.property(fc.array(finiteDouble, { maxLength: 41 }), (list) => {
      expectSameSums(kernel, Float64Array.from(list))
    }), { numRuns: 2000 })
  })

  it('adds the values and their squares as the JavaScript kernels do on long generated inputs, across blocks', () => {
    for (const vector of fixtures.generated) expectSameSums(kernel, generateInput(vector.x.kind, vector.x.seed, vector.count))
    for (const count of [BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 3]) {
      const values = new Float64Array(count).fill((2 - 2 ** -52) * 2 ** 511)
      values[count - 1] = -TINY
      expectSameSums(kernel, values)
    }
  })

  it('finds zero extremes among zeros of either sign', () => {
    for (const list of [[0, -0], [-0, 0], [-0], [0], [0, -0, 0], [-0, 1, 0], [0, -1, -0]]) expectSameSums(kernel, Float64Array.from(list))
  })

  it('leaves the squares of values of 2^1023 or more to the JavaScript kernel, squares and extremes untouched', () => {
    for (const list of [[MAX], [1, 2, -(2 ** 1023)], [2 ** 1023, 0.5, 0.25, 3]]) expectSameSums(kernel, Float64Array.from(list))
    expectSameSums(kernel, Float64Array.of(2 ** 1022 * (2 - 2 ** -52), 1))
  })

  it('reports NaN and infinities as the JavaScript sum does, and leaves no state behind for the next call', () => {
    const anyDouble = fc.oneof(finiteDouble, fc.constantFrom(NaN, Infinity, -Infinity))
    fc.assert(fc.property(fc.array(anyDouble, { maxLength: 20 }), fc.array(finiteDouble, { maxLength: 20 }), (list, next) => {
      expectSameSums(kernel, Float64Array.from(list))
      expectSameSums(kernel, Float64Array.from(next))
    }), { numRuns: 500 })
  })
})
