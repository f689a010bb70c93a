import type { Mode } from './modes.js'
import {
  createSuperaccumulator,
  mergeSuperaccumulators,
  roundSuperaccumulator,
  type Superaccumulator
} from './superaccumulator.js'

/**
 * What a chunk of a float64 task (sum, dot) reads, what it hands back, and how the chunks' partials become one
 * answer: written once for every task that adds doubles exactly or in a plain loop.
 */
/**
 * A chunk: units [start, end) of a buffer of float64 values. The buffer is a SharedArrayBuffer when
 * it comes from a request, so every chunk reads the same memory in place.
 */
export interface Float64Chunk {
  buffer: ArrayBufferLike
  start: number
  end: number
  mode: Mode
}

export interface ExactPartial {
  mode: 'exact'
  /** The chunk's exact sum, carries propagated: cheap to send back. */
  state: Superaccumulator
  /** Index of the chunk's first NaN or infinity (of the first pair holding one), or -1. */
  firstNonFinite: number
  /** Whether every term is -0: the one way an exact zero is -0. */
  everyNegativeZero: boolean
}

export interface FastPartial {
  mode: 'fast'
  /** The chunk's float64 running sum. */
  value: number
  firstNonFinite: number
}

export type Float64Partial = ExactPartial | FastPartial

/** The answer named after what it is (`{ kind: 'sum', sum }`), or why there is none. */
export type Float64Result<K extends string> =
  | ({ kind: K } & Record<K, number>)
  /** `index` is the first non-finite term of the whole input. */
  | { kind: 'non-finite', index: number }
  | { kind: 'overflow' }

/** The superaccumulator the exact partials hold: its length, and the exponent of its unit. */
export interface ExactScale {
  limbs?: number
  unitExponent?: number
}

/**
 * Combines the chunks' partials, in chunk order. Exact partials are added exactly and rounded once:
 * rounding each chunk first would round twice and could miss the nearest double.
 */
export function mergeFloat64Partials<K extends string> (kind: K, partials: Float64Partial[], { limbs, unitExponent }: ExactScale = {}): Float64Result<K> {
  const nonFinite = partials.map((partial) => partial.firstNonFinite).filter((index) => index >= 0)
  if (nonFinite.length > 0) return { kind: 'non-finite', index: Math.min(...nonFinite) }

  let value: number
  if (partials.every((partial) => partial.mode === 'fast')) {
    value = partials.reduce((total, partial) => total + partial.value, 0)
  } else {
    const total = createSuperaccumulator(limbs)
    for (const partial of partials as ExactPartial[]) mergeSuperaccumulators(total, partial.state)
    value = roundSuperaccumulator(total, unitExponent)
    if (value === 0 && partials.every((partial) => (partial as ExactPartial).everyNegativeZero)) value = -0
  }
  return Number.isFinite(value) ? { kind, [kind]: value } as Float64Result<K> : { kind: 'overflow' }
}
