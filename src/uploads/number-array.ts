import { z } from 'zod'
import { MAX_ISSUES } from '../http/error-body.js'

/**
 * `z.array(z.number())` (finite numbers), checked in one pass that names the first MAX_ISSUES bad
 * items and only counts the rest. zod itself builds an issue per bad item: a 1 MiB body of `[]`
 * items made 350,000 of them, and a 54 MB answer (docs/hostile-clients.md). OpenAPI shows the plain
 * array it is.
 */
export function numberArray () {
  return z.custom<number[]>().superRefine((value, ctx) => {
    if (!Array.isArray(value)) {
      ctx.addIssue({ code: 'custom', message: `Invalid input: expected array, received ${kindOf(value)}` })
      return
    }
    let bad = 0
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i]
      if (typeof item === 'number' && Number.isFinite(item)) continue
      if (++bad <= MAX_ISSUES) ctx.addIssue({ code: 'custom', path: [i], message: `Invalid input: expected number, received ${kindOf(item)}` })
    }
    if (bad > MAX_ISSUES) {
      const omitted = bad - MAX_ISSUES
      ctx.addIssue({ code: 'custom', message: `${omitted} more items are not finite numbers`, params: { omitted } })
    }
  }).meta({ type: 'array', items: { type: 'number' } })
}

function kindOf (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return String(value)
  return typeof value
}
