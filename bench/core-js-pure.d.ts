declare module 'core-js-pure/actual/math/sum-precise.js' {
  /** core-js's Math.sumPrecise polyfill (Shewchuk's partials): a second, independent oracle. */
  const sumPrecise: (items: Iterable<number>) => number
  export default sumPrecise
}
