import { readFileSync } from 'node:fs'
import { compiledPath } from '../platform/paths.js'
import { sumOfSquaresWith, type BlockSums } from './sum-of-squares.js'

/** Built by `npm run build` from assembly/sum-of-squares.ts (AssemblyScript). */
export const wasmKernelPath = compiledPath('assembly/sum-of-squares.wasm')

interface KernelExports {
  sumBlock(first: number, count: number): number
  blockSumL: { value: number }
}

/** The part of the WebAssembly API used here: Node has it all, @types/node declares none of it. */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: unknown }
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi }

/**
 * The WebAssembly block sums: the same integers as the JavaScript kernel, four lanes at a time in
 * 64-bit integer SIMD. Undefined where the engine cannot run it (a CPU without SIMD), and the
 * JavaScript kernel stands in. Compiled synchronously: 400 bytes, once per thread.
 */
function loadBlockSums (): BlockSums | undefined {
  const bytes = readFileSync(wasmKernelPath)
  if (!WebAssembly.validate(bytes)) return undefined
  const kernel = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as KernelExports
  return (first, count, sums) => {
    sums[1] = kernel.sumBlock(first, count)
    sums[0] = kernel.blockSumL.value
  }
}

/** Exported for the tests, which hold it to the JavaScript block sums. */
export const blockSumsWasm = loadBlockSums()

/** Exact sum of i*i for start <= i < end by the WebAssembly kernel; undefined where it cannot run. */
export const sumOfSquaresWasm = blockSumsWasm === undefined ? undefined : sumOfSquaresWith(blockSumsWasm)
