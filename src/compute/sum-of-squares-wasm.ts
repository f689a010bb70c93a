import { sumOfSquaresWith, type BlockSums } from './sum-of-squares.js'
import { instantiateKernel, kernelPath } from './wasm-instance.js'

/** Built by `npm run build` from assembly/sum-of-squares.ts (AssemblyScript). */
export const wasmKernelPath = kernelPath('sum-of-squares')

interface KernelExports {
  sumBlock(first: number, count: number): number
  blockSumL: { value: number }
}

/**
 * The WebAssembly block sums: the same integers as the JavaScript kernel, four lanes at a time in
 * 64-bit integer SIMD. Undefined where the engine cannot run it (a CPU without SIMD), and the
 * JavaScript kernel stands in. Compiled synchronously: 400 bytes, once per thread.
 */
function loadBlockSums (): BlockSums | undefined {
  const kernel = instantiateKernel<KernelExports>('sum-of-squares')
  if (kernel === undefined) return undefined
  return (first, count, sums) => {
    sums[1] = kernel.sumBlock(first, count)
    sums[0] = kernel.blockSumL.value
  }
}

/** Exported for the tests, which hold it to the JavaScript block sums. */
export const blockSumsWasm = loadBlockSums()

/** Exact sum of i*i for start <= i < end by the WebAssembly kernel; undefined where it cannot run. */
export const sumOfSquaresWasm = blockSumsWasm === undefined ? undefined : sumOfSquaresWith(blockSumsWasm)
