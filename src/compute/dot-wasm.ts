import { propagateCarries, type Superaccumulator } from './superaccumulator.js'
import { instantiateKernel, kernelPath, type WasmGlobal } from './wasm-instance.js'

/** Built by `npm run build` from assembly/exact-dot.ts (AssemblyScript). */
export const exactDotWasmPath = kernelPath('exact-dot')

interface KernelExports {
  memory: { buffer: ArrayBuffer }
  inputX: WasmGlobal<number>
  inputY: WasmGlobal<number>
  output: WasmGlobal<number>
  BLOCK_PAIRS: WasmGlobal<number>
  MAX_PAIRS_PER_FLUSH: WasmGlobal<number>
  DIGITS: WasmGlobal<number>
  binPairs(x: number, y: number, count: number): void
  flush(): number
  allocate(count: number): number
}

/** One instance per thread: its bins are its state between binPairs and flush. */
const kernel = instantiateKernel<KernelExports>('exact-dot')

/** What flush() says: every factor finite and below 2^1023; some NaN or infinity; some factor of 2^1023 or more. */
const FINITE = 0
const NON_FINITE = 1

/** Moves the kernel's bins into acc (DOT_LIMBS limbs) if every factor was finite and below 2^1023; the flush's verdict. */
function flushInto (kernel: KernelExports, acc: Superaccumulator): number {
  const verdict = kernel.flush()
  if (verdict !== FINITE) return verdict
  const digits = new Float64Array(kernel.memory.buffer, kernel.output.value, kernel.DIGITS.value)
  for (let k = 0; k < digits.length; k++) acc[k]! += digits[k]!
  propagateCarries(acc)
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

export const addProductsWasm = kernel === undefined
  ? undefined
  : (acc: Superaccumulator, values: Float64Array, n: number, start: number, end: number): boolean | undefined => addProductsWith(kernel, acc, values, n, start, end)

/** For the benchmarks: x then y already in the kernel's memory (from `pairsInWasm`), as xsum's dot takes its arrays. */
export function pairsInWasm (count: number): Float64Array {
  if (kernel === undefined) throw new Error('no WebAssembly SIMD here')
  const at = kernel.allocate(count) // first: growing the memory detaches its old buffer
  return new Float64Array(kernel.memory.buffer, at, 2 * count)
}

export function addProductsInPlace (acc: Superaccumulator, pairs: Float64Array): boolean {
  if (kernel === undefined) throw new Error('no WebAssembly SIMD here')
  const n = pairs.length / 2
  if (n % 2 === 1 || n > kernel.MAX_PAIRS_PER_FLUSH.value) throw new Error('addProductsInPlace takes an even number of pairs, at most MAX_PAIRS_PER_FLUSH')
  kernel.binPairs(pairs.byteOffset, pairs.byteOffset + n * 8, n)
  const verdict = flushInto(kernel, acc)
  if (verdict > NON_FINITE) throw new Error('a factor of 2^1023 or more: the benchmarks\' data have none')
  return verdict === NON_FINITE
}
