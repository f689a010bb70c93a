import type { Range } from './split-range.js'
import { sumOfSquares } from './sum-of-squares.js'
import { sumOfSquaresWasm } from './sum-of-squares-wasm.js'

// The WebAssembly kernel is about three times faster here (docs/performance-vs-go.md); the
// JavaScript one, its reference in the tests, runs where the engine has no WebAssembly SIMD.
const kernel = sumOfSquaresWasm ?? sumOfSquares

/** One chunk of a sum-of-squares request: its exact partial sum. */
export function sumOfSquaresChunk ({ start, end }: Range): bigint {
  return kernel(start, end)
}
