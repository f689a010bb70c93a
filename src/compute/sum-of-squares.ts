/**
 * Exact sum of i*i over an integer range, computed term by term without BigInt in the hot loop.
 *
 * Each non-negative x is split as x = h * 2^17 + l. Within one block of 2^17 consecutive values
 * h is constant, so sum(x^2) = n*h^2*2^34 + 2*h*2^17*sum(l) + sum(l^2), and only sum(l) and
 * sum(l^2) need the per-term loop. Those stay exact in float64: l < 2^17, so sum(l^2) over a
 * block is below 2^51, under the 2^53 limit where doubles stop representing every integer.
 * The three block terms are folded into a BigInt once per block (every 131,072 terms).
 */

/** Fewest terms worth a chunk of their own: 4M terms is about a millisecond, far above the hand-off's cost. */
export const MIN_TERMS_PER_CHUNK = 4_000_000

/** Terms one thread sums per millisecond, roughly (0.8-3 million measured, by machine load): the work's estimated cost. */
export const TERMS_PER_MS = 1_500_000

const BLOCK_BITS = 17
const BLOCK = 2 ** BLOCK_BITS
const SHIFT_LOW = BigInt(BLOCK_BITS)
const SHIFT_HIGH = BigInt(2 * BLOCK_BITS)

/**
 * Writes the sum of l to sums[0] and the sum of l*l to sums[1], for l = first .. first + count - 1,
 * where 0 <= first and first + count <= 2^17: both stay below 2^53, so float64 holds them exactly.
 * The JavaScript one is below; src/compute/sum-of-squares-wasm.ts has a WebAssembly SIMD one.
 */
export type BlockSums = (first: number, count: number, sums: Float64Array) => void

/**
 * Adds l and l*l for l = first .. first + 4*quads - 1 into sums.
 * No remainder loop: a rarely taken branch deoptimises the whole loop, so the caller subtracts the
 * overshoot instead. `| 0` keeps the counter an int32; four accumulators per sum hide add latency.
 */
function sumBlock (first: number, quads: number, sums: Float64Array): void {
  let a0 = 0; let a1 = 0; let a2 = 0; let a3 = 0
  let b0 = 0; let b1 = 0; let b2 = 0; let b3 = 0
  let l = first | 0
  for (let q = 0; q < quads; q++) {
    const l1 = l + 1; const l2 = l + 2; const l3 = l + 3
    a0 += l; a1 += l1; a2 += l2; a3 += l3
    b0 += l * l; b1 += l1 * l1; b2 += l2 * l2; b3 += l3 * l3
    l += 4
  }
  sums[0] = (a0 + a1) + (a2 + a3)
  sums[1] = (b0 + b1) + (b2 + b3)
}

/** The JavaScript block sums: the reference the WebAssembly kernel is tested against. */
export const blockSumsJs: BlockSums = (first, count, sums) => {
  const quads = Math.ceil(count / 4)
  sumBlock(first, quads, sums)
  // Remove the up to three values the four-wide loop ran past the end (exact: all below 2^53).
  for (let extra = first + count; extra < first + quads * 4; extra++) {
    sums[0]! -= extra
    sums[1]! -= extra * extra
  }
}

/**
 * The exact sum of squares over any safe-integer range, from a block kernel: the blocks' sums are
 * folded into a BigInt once per block (every 131,072 terms), so the per-term work is the kernel's.
 */
export function sumOfSquaresWith (blockSums: BlockSums): (start: number, end: number) => bigint {
  const sums = new Float64Array(2)

  /** Sum of x*x for lo <= x < hi, where 0 <= lo <= hi <= 2^53. */
  function sumOfSquaresNonNegative (lo: number, hi: number): bigint {
    let total = 0n
    let x = lo
    while (x < hi) {
      const h = Math.floor(x / BLOCK)
      const base = h * BLOCK
      const first = x - base
      const stop = Math.min(hi - base, BLOCK)
      blockSums(first, stop - first, sums)
      const H = BigInt(h)
      total += ((BigInt(stop - first) * H * H) << SHIFT_HIGH) + ((2n * H * BigInt(sums[0]!)) << SHIFT_LOW) + BigInt(sums[1]!)
      x = base + stop
    }
    return total
  }

  /**
   * Exact sum of i*i for start <= i < end (Python's `sum(i*i for i in range(start, end))`).
   * Both bounds must be safe integers; an empty or reversed range sums to 0.
   */
  return function sumOfSquares (start: number, end: number): bigint {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
      throw new RangeError(`sumOfSquares needs safe integers, got ${start} and ${end}`)
    }
    if (end <= start) return 0n
    let total = 0n
    if (start < 0) {
      // i in [start, min(end, 0)) squares to the same values as x = -i in (-min(end, 0), -start].
      total += sumOfSquaresNonNegative(1 - Math.min(end, 0), 1 - start)
    }
    if (end > 0) total += sumOfSquaresNonNegative(Math.max(start, 0), end)
    return total
  }
}

/** Exact sum of i*i for start <= i < end, by the JavaScript kernel. */
export const sumOfSquares = sumOfSquaresWith(blockSumsJs)
