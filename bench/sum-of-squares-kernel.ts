import { sumOfSquares } from '../src/compute/sum-of-squares.js'
import { formatTable, medianOf } from './measure.js'

/** The obvious exact loop, for comparison: one BigInt multiply-add per term. */
function naiveBigInt (start: number, end: number): bigint {
  let sum = 0n
  for (let i = BigInt(start), stop = BigInt(end); i < stop; i++) sum += i * i
  return sum
}

/** Kernel ns/term on one core, near 0 and near 10^12, beside the naive BigInt loop. */
export async function sumOfSquaresKernelBench (): Promise<string> {
  const rows = [
    await medianOf('limb kernel, 10^7 terms from 0', 1e7, () => sumOfSquares(0, 1e7)),
    await medianOf('limb kernel, 10^7 terms from 10^12', 1e7, () => sumOfSquares(1e12, 1e12 + 1e7)),
    await medianOf('limb kernel, 10^8 terms from 10^12', 1e8, () => sumOfSquares(1e12, 1e12 + 1e8)),
    await medianOf('limb kernel, 10^7 terms from -2^53+1', 1e7, () => sumOfSquares(-Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER + 1e7)),
    await medianOf('naive BigInt loop, 10^6 terms from 10^12', 1e6, () => naiveBigInt(1e12, 1e12 + 1e6))
  ]
  const kernel = rows[1]!.medianNs / rows[1]!.units
  return formatTable(['sum of squares', 'median ms/call', 'ns/term', 'vs kernel'], rows.map((row) => {
    const perTerm = row.medianNs / row.units
    return [row.name, (row.medianNs / 1e6).toFixed(2), perTerm.toFixed(3), `${(perTerm / kernel).toFixed(1)}x`]
  }))
}
