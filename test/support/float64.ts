/** Little-endian float64 bytes of the lists, one after another, as a client would send them. */
export function float64Bytes (...lists: Array<ArrayLike<number>>): Buffer {
  const bytes = Buffer.alloc(lists.reduce((total, list) => total + list.length, 0) * 8)
  let offset = 0
  for (const list of lists) {
    for (let i = 0; i < list.length; i++, offset += 8) bytes.writeDoubleLE(list[i]!, offset)
  }
  return bytes
}

/** `count` values of random sign, their magnitudes spread over 2^±(spread / 2). */
export function randomValues (count: number, spread = 80): Float64Array {
  return Float64Array.from({ length: count }, () => (Math.random() - 0.5) * 2 ** (Math.random() * spread - spread / 2))
}
