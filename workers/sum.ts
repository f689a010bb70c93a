import { sumChunk, type SumChunk, type SumPartial } from '../src/compute/sum.js'

/** One chunk of a sum: its exact partial state (mode exact) or its float64 sum (mode fast). */
export default function sumTask (chunk: SumChunk): SumPartial {
  return sumChunk(chunk)
}
