/**
 * One kernel timed alone in a fresh process, the way the Go peer's `bench` mode times its own:
 * 10^7 terms from 10^12, one warm-up call, then five lines of ten calls each, in ns/term.
 * Argument: js or wasm. Started by bench/kernel-vs-peer.ts.
 */
import { performance } from 'node:perf_hooks'
import { sumOfSquares } from '../src/compute/sum-of-squares.js'
import { sumOfSquaresWasm } from '../src/compute/sum-of-squares-wasm.js'

const kernels = { js: sumOfSquares, wasm: sumOfSquaresWasm }
const name = process.argv[2] as keyof typeof kernels
const kernel = kernels[name]
if (kernel === undefined) throw new Error(`usage: kernel-child.js js|wasm (wasm needs WebAssembly SIMD), got ${name}`)

const start = 1e12
const n = 1e7
let sink = kernel(start, start + n) // warm-up
for (let round = 0; round < 5; round++) {
  const started = performance.now()
  for (let k = 0; k < 10; k++) sink ^= kernel(start, start + n)
  console.log(`${name} kernel: ${((performance.now() - started) * 1e6 / (10 * n)).toFixed(3)} ns/term`)
}
if (sink === -1n) console.log('unreachable: keeps the results alive')
