/**
 * The service's exact kernels timed alone in a fresh process, as bench/peers/xsum-driver.c times xsum:
 * for each `sum:FILE`, `dot:FILE` or `stats:FILE` (a sum file's values, named stats-*), one untimed
 * call, then five lines `<name> <ns> ns/value|ns/pair <bits>`, each over about 20 ms of calls, in CPU
 * time. First argument: js (the reference kernel),
 * wasm (the service's path: values in a SharedArrayBuffer, copied into the kernel's memory a block at
 * a time) or wasm-in-memory (values already in the kernel's memory, as xsum's addv takes its arrays).
 * Started by bench/exact-vs-peer.ts.
 */
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { addProducts, addSquares, DOT_LIMBS, PRODUCT_UNIT_EXPONENT } from '../src/compute/dot.js'
import { dotKernel } from '../src/compute/dot-wasm.js'
import { addValues } from '../src/compute/float64-bins.js'
import { addValuesInPlace, addValuesWasm, valuesInWasm } from '../src/compute/float64-bins-wasm.js'
import { statsChunk } from '../src/compute/stats.js'
import { createSuperaccumulator, roundSuperaccumulator, type Superaccumulator } from '../src/compute/superaccumulator.js'

type AddValues = (acc: Superaccumulator, values: Float64Array) => boolean
interface Kernel {
  /** Puts the file's values where this kernel reads them. */
  place(bytes: Buffer): Float64Array
  sum?: AddValues
  dot?: (values: Float64Array) => number
  /** A stats chunk of every value; answers its sum of squares, rounded (min, max and sum have their own tests). */
  stats?: (values: Float64Array) => number
}

function shared (bytes: Buffer): Float64Array {
  const values = new Float64Array(new SharedArrayBuffer(bytes.length))
  values.set(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8))
  return values
}

/** The exact dot as the route's one chunk computes it: add every product, then round once (no factor here is 2^1023 or more). */
function dotWith (add: (acc: Superaccumulator, values: Float64Array, n: number) => boolean | undefined): (values: Float64Array) => number {
  return (values) => {
    const acc = createSuperaccumulator(DOT_LIMBS)
    if (add(acc, values, values.length / 2) !== false) throw new Error('a non-finite or huge factor: not benchmark data')
    return roundSuperaccumulator(acc, PRODUCT_UNIT_EXPONENT)
  }
}

/** What statsChunk does, with the JavaScript kernels: the values' sum, then their squares with min and max. */
function statsInJs (values: Float64Array): number {
  addValues(createSuperaccumulator(), values)
  const squares = createSuperaccumulator(DOT_LIMBS)
  addSquares(squares, values, 0, values.length, Float64Array.of(Infinity, -Infinity))
  return roundSuperaccumulator(squares, PRODUCT_UNIT_EXPONENT)
}

const kernels: Record<string, Kernel> = {
  js: { place: shared, sum: addValues, dot: dotWith((acc, values, n) => addProducts(acc, values, n, 0, n)), stats: statsInJs },
  wasm: {
    place: shared,
    sum: addValuesWasm,
    dot: dotWith((acc, values, n) => dotKernel!.addProducts(acc, values, n, 0, n)),
    // As the workers run it: the chunk reads the request's SharedArrayBuffer in place.
    stats: (values) => roundSuperaccumulator(statsChunk({ buffer: values.buffer, start: 0, end: values.length }).sumOfSquares, PRODUCT_UNIT_EXPONENT)
  },
  'wasm-in-memory': {
    place: (bytes) => {
      const count = bytes.length / 8
      // A dot file's pairs go to the dot kernel's memory, a sum file's values to the sum kernel's.
      const values = inputKind === 'dot' ? dotKernel!.pairsInWasm(count / 2) : valuesInWasm(count)
      values.set(new Float64Array(bytes.buffer, bytes.byteOffset, count))
      return values
    },
    sum: addValuesInPlace,
    dot: dotWith((acc, values) => dotKernel!.addProductsInPlace(acc, values))
  }
}

const [name, ...inputs] = process.argv.slice(2)
const kernel = kernels[name ?? '']
if (kernel === undefined) throw new Error(`usage: exact-kernel-child.js ${Object.keys(kernels).join('|')} sum:FILE|dot:FILE|stats:FILE..., got ${name}`)

const bits = new DataView(new ArrayBuffer(8))
function hex (value: number): string {
  bits.setFloat64(0, value)
  return bits.getBigUint64(0).toString(16).padStart(16, '0')
}

let inputKind = ''
for (const input of inputs) {
  const [kind, path] = input.split(/:(.*)/s) as [string, string]
  inputKind = kind
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
  } else if (kind === 'stats') {
    call = kernel.stats
  }
  if (call === undefined) continue
  const values = kernel.place(readFileSync(path))
  const n = kind === 'dot' ? values.length / 2 : values.length
  const result = call(values)
  const calls = Math.max(1, Math.floor(2e7 / n))
  let sink = 0
  for (let line = 0; line < 5; line++) {
    // CPU time, as the C driver measures it: on a shared machine a descheduled thread is not slower.
    const started = process.cpuUsage()
    for (let k = 0; k < calls; k++) sink += call(values)
    const { user, system } = process.cpuUsage(started)
    const ns = (user + system) * 1e3 / (calls * n)
    console.log(`${kind === 'stats' ? basename(path, '.f64').replace(/^sum-/, 'stats-') : basename(path, '.f64')} ${ns.toFixed(3)} ${kind === 'dot' ? 'ns/pair' : 'ns/value'} ${hex(result)}`)
  }
  if (sink === 0.5) console.log('unreachable: keeps the results alive')
}
