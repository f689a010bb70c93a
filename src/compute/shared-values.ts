/**
 * JSON input's numbers, copied into shared memory so that chunk tasks read them in place like binary
 * input. Several lists are laid end to end in one buffer (a dot product's x, then y).
 */
export function copyToShared (...lists: ReadonlyArray<readonly number[]>): Float64Array<SharedArrayBuffer> {
  let length = 0
  for (const numbers of lists) length += numbers.length
  const values = new Float64Array(new SharedArrayBuffer(length * 8))
  let at = 0
  for (const numbers of lists) {
    for (let i = 0; i < numbers.length; i++) values[at + i] = numbers[i]!
    at += numbers.length
  }
  return values
}
