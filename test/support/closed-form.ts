/**
 * Python's sum(i*i for i in range(start, end)) by the closed form F(end) - F(start), F(n) = n(n-1)(2n-1)/6:
 * the independent reference the soak and the tests check the service's answers against.
 */
export function closedForm (start: number | bigint, end: number | bigint): bigint {
  const f = (n: bigint) => (n * (n - 1n) * (2n * n - 1n)) / 6n
  const [a, b] = [BigInt(start), BigInt(end)]
  return b <= a ? 0n : f(b) - f(a)
}
