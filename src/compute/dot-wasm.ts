import { propagateCarries, type Superaccumulator } from './superaccumulator.js'
import { instantiateKernel, type WasmGlobal } from './wasm-instance.js'

/**
 * The builds of assembly/exact-dot.ts (AssemblyScript, `npm run build`), fastest first: with relaxed
 * SIMD's multiply-add for the product's error, then plain SIMD (Dekker's two-product). Where neither
 * runs, the JavaScript kernel (src/compute/dot.ts) does.
 */
export const DOT_KERNELS = ['exact-dot-fma', 'exact-dot'] as const
export type DotKernelName = typeof DOT_KERNELS[number]

interface KernelExports {
  memory: { buffer: ArrayBuffer }
  inputX: WasmGlobal<number>
  inputY: WasmGlobal<number>
  output: WasmGlobal<number>
  extremes: WasmGlobal<number>
  BLOCK_PAIRS: WasmGlobal<number>
  MAX_PAIRS_PER_FLUSH: WasmGlobal<number>
  DIGITS: WasmGlobal<number>
  twoProductError(a: number, b: number): number
  binPairs(x: number, y: number, count: number): void
  binSquares(x: number, count: number): void
  flush(): number
  /** The exact sum's kernel (assembly/exact-sum.ts) in this instance, for the stats' one copy a block. */
  binValues(from: number, count: number): void
  flushValues(): number
  valuesOutput: WasmGlobal<number>
  VALUE_DIGITS: WasmGlobal<number>
  allocate(count: number): number
}

/**
 * (1 + 2^-30)(1 - 2^-30) = 1 - 2^-60 rounds to 1: its error, -2^-60, is lost by a multiply-add that
 * rounds the product first. Relaxed SIMD lets the engine choose (V8 fuses where the CPU has FMA3).
 */
function twoProductIsExact (kernel: KernelExports): boolean {
  return kernel.twoProductError(1 + 2 ** -30, 1 - 2 ** -30) === -(2 ** -60)
}

/** What flush() says: every factor finite and below 2^1023; some NaN or infinity; some factor of 2^1023 or more. */
const FINITE = 0
const NON_FINITE = 1

/** Adds `count` flushed digits at `at` in the kernel's memory (each exact as a double) to acc, and propagates the carries. */
function addDigits (kernel: KernelExports, acc: Superaccumulator, at: number, count: number): void {
  const digits = new Float64Array(kernel.memory.buffer, at, count)
  for (let k = 0; k < digits.length; k++) acc[k]! += digits[k]!
  propagateCarries(acc)
}

/** Moves the kernel's bins into acc (DOT_LIMBS limbs) if every factor was finite and below 2^1023; the flush's verdict. */
function flushInto (kernel: KernelExports, acc: Superaccumulator): number {
  const verdict = kernel.flush()
  if (verdict === FINITE) addDigits(kernel, acc, kernel.output.value, kernel.DIGITS.value)
  return verdict
}

/**
 * Same contract as addProducts (src/compute/dot.ts), which stays the reference: adds x[i] * y[i] for
 * i in [start, end) exactly, x = values[0, n), y = values[n, 2n); true if some factor was NaN or
 * infinite (acc is then meaningless). x and y are copied into the kernel's memory a block at a time.
 * Undefined, with acc untouched, for what it cannot take and the reference kernel must: more pairs
 * than its i64 bins hold (more than a body holds), or a factor of 2^1023 or more (seen at the flush).
 */
function addProductsWith (kernel: KernelExports, acc: Superaccumulator, values: Float64Array, n: number, start: number, end: number): boolean | undefined {
  if (end - start > kernel.MAX_PAIRS_PER_FLUSH.value) return undefined
  const block = kernel.BLOCK_PAIRS.value
  // Buffer.copy, not TypedArray.set, as in float64-bins-wasm.ts: faster from a SharedArrayBuffer.
  const source = Buffer.from(values.buffer, values.byteOffset, values.byteLength)
  const x = Buffer.from(kernel.memory.buffer, kernel.inputX.value, (block + 1) * 8)
  const y = Buffer.from(kernel.memory.buffer, kernel.inputY.value, (block + 1) * 8)
  for (let from = start; from < end; from += block) {
    const count = Math.min(block, end - from)
    source.copy(x, 0, from * 8, (from + count) * 8)
    source.copy(y, 0, (n + from) * 8, (n + from + count) * 8)
    // The kernel takes pairs two by two: an odd one out gets a pair of zeros, whose product adds 0.
    if (count % 2 === 1) { x.writeDoubleLE(0, count * 8); y.writeDoubleLE(0, count * 8) }
    kernel.binPairs(kernel.inputX.value, kernel.inputY.value, count + (count % 2))
  }
  const verdict = flushInto(kernel, acc)
  return verdict === FINITE || verdict === NON_FINITE ? verdict === NON_FINITE : undefined
}

/**
 * What addSums did: some value was NaN or infinite (both sums meaningless); both sums were added; or
 * only the values' sum, for a value of 2^1023 or more, whose square the JavaScript kernel must take.
 */
export type SumsVerdict = 'non-finite' | 'both' | 'sum-only'

/**
 * /v1/stats's two exact sums in one pass over the values, each block copied once: addValues's (into
 * sum, src/compute/float64-bins.ts) and addSquares's (into squares, DOT_LIMBS limbs,
 * src/compute/dot.ts), which stay the reference. The values are folded into extremes[0] (least) and
 * extremes[1] (greatest), except that a zero extreme may be 0 or -0 (stats.ts takes the first zero's
 * sign anyway). squares and extremes are untouched unless the verdict is 'both'.
 */
function addSumsWith (kernel: KernelExports, sum: Superaccumulator, squares: Superaccumulator, values: Float64Array, extremes: Float64Array): SumsVerdict | undefined {
  if (values.length > kernel.MAX_PAIRS_PER_FLUSH.value) return undefined
  const block = kernel.BLOCK_PAIRS.value
  const source = Buffer.from(values.buffer, values.byteOffset, values.byteLength)
  const x = Buffer.from(kernel.memory.buffer, kernel.inputX.value, block * 8)
  const found = new Float64Array(kernel.memory.buffer, kernel.extremes.value, 2)
  found.set(extremes)
  for (let from = 0; from < values.length; from += block) {
    const count = Math.min(block, values.length - from)
    source.copy(x, 0, from * 8, (from + count) * 8)
    kernel.binValues(kernel.inputX.value, count)
    kernel.binSquares(kernel.inputX.value, count)
  }
  // Both flushes empty their bins, whatever they say.
  const nonFinite = kernel.flushValues() !== 0
  if (!nonFinite) addDigits(kernel, sum, kernel.valuesOutput.value, kernel.VALUE_DIGITS.value)
  const verdict = kernel.flush()
  if (nonFinite) return 'non-finite'
  if (verdict !== FINITE) return 'sum-only'
  addDigits(kernel, squares, kernel.output.value, kernel.DIGITS.value)
  extremes.set(found)
  return 'both'
}

/** A build's instance, if the engine runs it and its two-product is exact; one per thread (its bins are its state). */
function load (name: DotKernelName): KernelExports | undefined {
  const kernel = instantiateKernel<KernelExports>(name)
  return kernel !== undefined && twoProductIsExact(kernel) ? kernel : undefined
}

export interface DotKernel {
  name: DotKernelName
  addProducts(acc: Superaccumulator, values: Float64Array, n: number, start: number, end: number): boolean | undefined
  /** Undefined, with every argument untouched, for more values than the bins hold (more than a body holds). */
  addSums(sum: Superaccumulator, squares: Superaccumulator, values: Float64Array, extremes: Float64Array): SumsVerdict | undefined
  /** For the benchmarks: x then y already in the kernel's memory (from `pairsInWasm`), as xsum's dot takes its arrays. */
  pairsInWasm(count: number): Float64Array
  addProductsInPlace(acc: Superaccumulator, pairs: Float64Array): boolean
}

/** One build of the kernel, or undefined where it does not run (exported for the tests, which hold each build to the reference). */
export function loadDotKernel (name: DotKernelName): DotKernel | undefined {
  const kernel = load(name)
  if (kernel === undefined) return undefined
  return {
    name,
    addProducts: (acc, values, n, start, end) => addProductsWith(kernel, acc, values, n, start, end),
    addSums: (sum, squares, values, extremes) => addSumsWith(kernel, sum, squares, values, extremes),
    pairsInWasm: (count) => {
      const at = kernel.allocate(count) // first: growing the memory detaches its old buffer
      return new Float64Array(kernel.memory.buffer, at, 2 * count)
    },
    addProductsInPlace: (acc, pairs) => {
      const n = pairs.length / 2
      if (n % 2 === 1 || n > kernel.MAX_PAIRS_PER_FLUSH.value) throw new Error('addProductsInPlace takes an even number of pairs, at most MAX_PAIRS_PER_FLUSH')
      kernel.binPairs(pairs.byteOffset, pairs.byteOffset + n * 8, n)
      const verdict = flushInto(kernel, acc)
      if (verdict > NON_FINITE) throw new Error('a factor of 2^1023 or more: the benchmarks\' data have none')
      return verdict === NON_FINITE
    }
  }
}

/** The first build that runs here and is exact: what the workers use. */
export const dotKernel = loadDotKernel('exact-dot-fma') ?? loadDotKernel('exact-dot')

export const addProductsWasm = dotKernel?.addProducts

export const addSumsWasm = dotKernel?.addSums
