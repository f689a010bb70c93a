import type { Range } from '../src/compute/split-range.js'
import { sumOfSquares } from '../src/compute/sum-of-squares.js'

/** One chunk of a sum-of-squares request: its exact partial sum. */
export default function sumOfSquaresTask ({ start, end }: Range): bigint {
  return sumOfSquares(start, end)
}
