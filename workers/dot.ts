import { dotChunk, type DotChunk, type DotPartial } from '../src/compute/dot.js'

/** One chunk of a dot product: its exact partial state (mode exact) or its float64 sum (mode fast). */
export default function dotTask (chunk: DotChunk): DotPartial {
  return dotChunk(chunk)
}
