/** Benchmark inputs: the same distributions in every sum suite (extreme and sparse as in bench/dot-kernel.ts). */
export type Distribution = 'wide' | 'unit' | 'extreme' | 'sparse'

/**
 * wide: random sign and magnitude over 2^-100 .. 2^100, the kind of data where fsum's partials grow
 * (CPython's math.fsum takes ~52 ns per value on it here). unit: uniform [0, 1), where consecutive values
 * land in the same few exponent bins. extreme: magnitudes over 2^-1000 .. 2^1000. sparse: wide, nine in ten zero.
 */
export function makeValues (count: number, distribution: Distribution, into?: Float64Array): Float64Array {
  const values = into ?? new Float64Array(count)
  for (let i = 0; i < count; i++) {
    if (distribution === 'unit') values[i] = Math.random()
    else if (distribution === 'sparse' && Math.random() < 0.9) values[i] = 0
    else values[i] = (Math.random() - 0.5) * 2 ** (distribution === 'extreme' ? Math.floor(Math.random() * 2000) - 1000 : Math.floor(Math.random() * 200) - 100)
  }
  return values
}

export const MiB = 1024 * 1024
