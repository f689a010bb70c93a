/**
 * The service's exact kernels timed alone in a fresh process, as bench/peers/xsum-driver.c times xsum:
 * for each `sum:FILE` or `dot:FILE`, one untimed call, then five lines `<name> <ns> ns/value|ns/pair
 * <bits>`, each over about 20 ms of calls. First argument: js (the reference kernel), wasm (the
 * service's path: values in a SharedArrayBuffer, copied into the kernel's memory a block at a time) or
 * wasm-in-memory (values already in the kernel's memory, as xsum's addv takes its array). A kernel
 * without a dot prints nothing for dot files. Started by bench/exact-vs-peer.ts.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { performance } from 'node:perf_hooks'
import { mergeDotPartials, dotChunk } from '../src/compute/dot.js'
import { addValues } from '../src/compute/float64-bins.js'
import { addValuesInPlace, addValuesWasm, valuesInWasm } from '../src/compute/float64-bins-wasm.js'
import { createSuperaccumulator, roundSuperaccumulator, type Superaccumulator } from '../src/compute/superaccumulator.js'

type AddValues = (acc: Superaccumulator, values: Float64Array) => boolean
interface Kernel {
  /** Puts the file's values where this kernel reads them. */
  place(bytes: Buffer): Float64Array
  sum?: AddValues
  dot?: (values: Float64Array) => number
}

function shared (bytes: Buffer): Float64Array {
  const values = new Float64Array(new SharedArrayBuffer(bytes.length))
  values.set(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8))
  return values
}

const kernels: Record<string, Kernel> = {
  js: {
    place: shared,
    sum: addValues,
    dot: (values) => {
      const n = values.length / 2
      const result = mergeDotPartials([dotChunk({ buffer: values.buffer, n, start: 0, end: n, mode: 'exact' })])
      return result.kind === 'dot' ? result.dot : NaN
    }
  },
  wasm: { place: shared, sum: addValuesWasm },
  'wasm-in-memory': {
    place: (bytes) => {
      const values = valuesInWasm(bytes.length / 8)
      values.set(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8))
      return values
    },
    sum: addValuesInPlace
  }
}

const [name, ...inputs] = process.argv.slice(2)
const kernel = kernels[name ?? '']
if (kernel === undefined) throw new Error(`usage: exact-kernel-child.js ${Object.keys(kernels).join('|')} sum:FILE|dot:FILE..., got ${name}`)

const bits = new DataView(new ArrayBuffer(8))
function hex (value: number): string {
  bits.setFloat64(0, value)
  return bits.getBigUint64(0).toString(16).padStart(16, '0')
}

for (const input of inputs) {
  const [kind, path] = [input.slice(0, 3), input.slice(4)]
  const add = kernel.sum
  let call: ((values: Float64Array) => number) | undefined
  if (kind === 'sum' && add !== undefined) {
    // What the route does for one chunk of finite values: add, then round once.
    call = (values) => {
      const acc = createSuperaccumulator()
      add(acc, values)
      return roundSuperaccumulator(acc)
    }
  } else if (kind === 'dot') {
    call = kernel.dot
  }
  if (call === undefined) continue
  const values = kernel.place(readFileSync(path))
  const n = kind === 'dot' ? values.length / 2 : values.length
  const result = call(values)
  const calls = Math.max(1, Math.floor(2e7 / n))
  let sink = 0
  for (let line = 0; line < 5; line++) {
    const started = performance.now()
    for (let k = 0; k < calls; k++) sink += call(values)
    const ns = (performance.now() - started) * 1e6 / (calls * n)
    console.log(`${basename(path, '.f64')} ${ns.toFixed(3)} ${kind === 'dot' ? 'ns/pair' : 'ns/value'} ${hex(result)}`)
  }
  if (sink === 0.5) console.log('unreachable: keeps the results alive')
}
