/** JSON input's numbers, copied into shared memory so that chunk tasks read them in place like binary input. */
export function copyToShared (numbers: readonly number[]): Float64Array<SharedArrayBuffer> {
  const values = new Float64Array(new SharedArrayBuffer(numbers.length * 8))
  for (let i = 0; i < numbers.length; i++) values[i] = numbers[i]!
  return values
}
