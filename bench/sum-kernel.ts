import coreJsSumPrecise from 'core-js-pure/actual/math/sum-precise.js'
import { addValues } from '../src/compute/float64-bins.js'
import { naiveSum, sumPrecise } from '../src/compute/sum.js'
import { createSuperaccumulator, roundSuperaccumulator } from '../src/compute/superaccumulator.js'
import { formatTable, medianOf, type BenchRow } from './measure.js'
import { makeValues, type Distribution } from './sum-data.js'

/** The JavaScript kernel, the tests' reference, where the service runs the WebAssembly one. */
function sumPreciseJs (values: Float64Array): number {
  const acc = createSuperaccumulator()
  addValues(acc, values)
  return roundSuperaccumulator(acc)
}

/**
 * Exact kernels (the service's, WebAssembly, and the JavaScript reference) against the naive loop over
 * the very same values, one thread. Target: exact at most 3x naive. core-js's Math.sumPrecise polyfill
 * (Shewchuk's partials) is shown on fewer values for scale.
 */
export async function sumKernelBench (): Promise<string> {
  const rows: Array<{ naive: BenchRow, exact: BenchRow[] }> = []
  for (const count of [1e6, 1e7]) {
    for (const distribution of ['wide', 'unit'] as Distribution[]) {
      const values = makeValues(count, distribution)
      const label = `10^${Math.log10(count)} ${distribution}`
      rows.push({
        naive: await medianOf(`naive loop, ${label}`, count, () => naiveSum(values)),
        exact: [
          await medianOf(`exact (WebAssembly, the service's), ${label}`, count, () => sumPrecise(values)),
          await medianOf(`exact (JavaScript reference), ${label}`, count, () => sumPreciseJs(values))
        ]
      })
    }
  }
  const polyfillValues = Array.from(makeValues(1e5, 'wide'))
  const polyfill = await medianOf('core-js Math.sumPrecise, 10^5 wide', 1e5, () => coreJsSumPrecise(polyfillValues))
  const naiveNs = rows[0]!.naive.medianNs / rows[0]!.naive.units

  const table = rows.flatMap(({ naive, exact }) => [naive, ...exact].map((row) => {
    const ratio = row === naive ? '1x' : `${(row.medianNs / row.units / (naive.medianNs / naive.units)).toFixed(2)}x`
    return [row.name, (row.medianNs / 1e6).toFixed(2), (row.medianNs / row.units).toFixed(3), ratio]
  }))
  table.push([polyfill.name, (polyfill.medianNs / 1e6).toFixed(2), (polyfill.medianNs / polyfill.units).toFixed(3), `${(polyfill.medianNs / polyfill.units / naiveNs).toFixed(0)}x (vs 10^6 wide naive)`])
  return formatTable(['sum kernel, one thread', 'median ms/call', 'ns/value', 'vs naive, same values'], table)
}
