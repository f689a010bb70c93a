import { sumChunk, type SumChunk, type SumPartial } from '../src/compute/sum-partials.js'

/** One chunk of a sum request: its exact partial state (mode exact) or its float64 sum (mode fast). */
export default function sumValuesTask (chunk: SumChunk): SumPartial {
  return sumChunk(chunk)
}
