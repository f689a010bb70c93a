// AssemblyScript, imported by the exact-sum and exact-dot kernels: how a flushed bin reaches the digits.

/**
 * digits[k] += (or -=) the 32-bit pieces of magnitude * 2^position, magnitude below 2^64: three
 * pieces, at the 64-bit digits from position / 32 on. The caller propagates the carries.
 */
export function addShiftedTo (digits: usize, magnitude: u64, position: i32, negative: bool): void {
  const shift = <u64>(position & 31)
  const low = magnitude << shift
  const high = shift === 0 ? 0 : magnitude >>> (64 - shift)
  const at = digits + (<usize>(position >>> 5) << 3)
  const sign: i64 = negative ? -1 : 1
  store<i64>(at, load<i64>(at) + sign * <i64>(low & 0xffffffff))
  store<i64>(at, load<i64>(at, 8) + sign * <i64>(low >>> 32), 8)
  store<i64>(at, load<i64>(at, 16) + sign * <i64>high, 16)
}
