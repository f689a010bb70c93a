import { addValues } from './float64-bins.js'
import { requireLittleEndian } from './little-endian.js'
import { propagateCarries, type Superaccumulator } from './superaccumulator.js'
import { instantiateKernel, kernelPath, type WasmGlobal } from './wasm-instance.js'

/** Built by `npm run build` from assembly/exact-sum.ts (AssemblyScript). */
export const exactSumWasmPath = kernelPath('exact-sum')

// The kernel reads doubles from its memory as the platform stores them; the JavaScript kernel needs the same.
requireLittleEndian('exact summation')

interface KernelExports {
  memory: { buffer: ArrayBuffer }
  input: WasmGlobal<number>
  output: WasmGlobal<number>
  BLOCK_VALUES: WasmGlobal<number>
  MAX_VALUES_PER_FLUSH: WasmGlobal<number>
  DIGITS: WasmGlobal<number>
  binValues(from: number, count: number): void
  flush(): number
  allocate(count: number): number
}

/** One instance per thread: its bins are its state between binValues and flush. */
const kernel = instantiateKernel<KernelExports>('exact-sum')

/** Moves the kernel's bins into acc; true if some value was not finite. */
function flushInto (kernel: KernelExports, acc: Superaccumulator): boolean {
  const nonFinite = kernel.flush() !== 0
  // After a growth of the memory (allocate) an old view would be detached: a fresh one costs nothing here.
  const digits = new Float64Array(kernel.memory.buffer, kernel.output.value, kernel.DIGITS.value)
  for (let k = 0; k < digits.length; k++) acc[k]! += digits[k]!
  propagateCarries(acc)
  return nonFinite
}

/**
 * Same contract as addValues (src/compute/float64-bins.ts), which stays the reference: adds every finite
 * value to `acc` exactly, true if some value was NaN or infinite. The values are copied into the
 * kernel's memory a block at a time (a SharedArrayBuffer cannot be the memory of a WebAssembly instance).
 */
function addValuesWith (kernel: KernelExports, acc: Superaccumulator, values: Float64Array): boolean {
  const block = kernel.BLOCK_VALUES.value
  // Buffer.copy, not TypedArray.set: from a SharedArrayBuffer the latter copies word by word
  // (relaxed atomics), about 0.5 ns a value here against 0.3 on Node 24 (docs/performance-vs-xsum.md).
  const source = Buffer.from(values.buffer, values.byteOffset, values.byteLength)
  const input = Buffer.from(kernel.memory.buffer, kernel.input.value, block * 8)
  let nonFinite = false
  let sinceFlush = 0
  for (let start = 0; start < values.length; start += block) {
    const count = Math.min(block, values.length - start)
    source.copy(input, 0, start * 8, (start + count) * 8)
    kernel.binValues(kernel.input.value, count)
    sinceFlush += count
    if (sinceFlush >= kernel.MAX_VALUES_PER_FLUSH.value - block) {
      if (flushInto(kernel, acc)) nonFinite = true
      sinceFlush = 0
    }
  }
  return flushInto(kernel, acc) || nonFinite
}

export const addValuesWasm = kernel === undefined
  ? undefined
  : (acc: Superaccumulator, values: Float64Array): boolean => addValuesWith(kernel, acc, values)

/**
 * For the benchmarks: the kernel on values that already live in its memory, as xsum's addv takes its
 * array, so the copy that the service path pays is left out. `values` must come from `valuesInWasm`.
 */
export function valuesInWasm (count: number): Float64Array {
  if (kernel === undefined) throw new Error('no WebAssembly SIMD here')
  const at = kernel.allocate(count)
  return new Float64Array(kernel.memory.buffer, at, count)
}

export function addValuesInPlace (acc: Superaccumulator, values: Float64Array): boolean {
  if (kernel === undefined) throw new Error('no WebAssembly SIMD here')
  let nonFinite = false
  for (let start = 0; start < values.length; start += kernel.MAX_VALUES_PER_FLUSH.value) {
    kernel.binValues(values.byteOffset + start * 8, Math.min(kernel.MAX_VALUES_PER_FLUSH.value, values.length - start))
    if (flushInto(kernel, acc)) nonFinite = true
  }
  return nonFinite
}

/**
 * The exact-sum kernel the service runs: the WebAssembly one, faster than the JavaScript one on every
 * data set measured, copy included (1.0-2.4x, docs/performance-vs-xsum.md); the JavaScript one, its
 * reference in the tests, where the engine has no WebAssembly SIMD.
 */
export const addExactValues = addValuesWasm ?? addValues
