/**
 * Refuses to load on a big-endian platform: the exact kernels' hot loops read a double's high and
 * low words from a Uint32Array view of it, which only little-endian memory lays out as they expect.
 */
export function requireLittleEndian (kernel: string): void {
  if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
    throw new Error(`${kernel} reads float64 bits as little-endian words; this platform is big-endian`)
  }
}
