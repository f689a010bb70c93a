/** Benchmark inputs: the same two distributions in every sum suite. */
export type Distribution = 'wide' | 'unit'

/**
 * wide: random sign and magnitude over 2^-100 .. 2^100, the kind of data where fsum's partials grow
 * (CPython's math.fsum takes ~52 ns per value on it here). unit: uniform [0, 1), where consecutive values
 * land in the same few exponent bins.
 */
export function makeValues (count: number, distribution: Distribution, into?: Float64Array): Float64Array {
  const values = into ?? new Float64Array(count)
  for (let i = 0; i < count; i++) {
    values[i] = distribution === 'unit'
      ? Math.random()
      : (Math.random() - 0.5) * 2 ** (Math.floor(Math.random() * 200) - 100)
  }
  return values
}

export const MiB = 1024 * 1024
