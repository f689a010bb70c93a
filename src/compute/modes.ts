/** `exact`: correctly rounded, one rounding of the exact result. `fast`: a plain float64 loop, order-dependent. */
export const MODES = ['exact', 'fast'] as const
export type Mode = typeof MODES[number]
