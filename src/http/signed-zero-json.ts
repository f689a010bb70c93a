import { createSerializerCompiler } from 'fastify-type-provider-zod'
import type { RouteSchema } from './compiled-serializer.js'

const NEGATIVE_ZERO = '\u0000-0'
const MARKED = JSON.stringify(NEGATIVE_ZERO)
const markNegativeZero = (_key: string, item: unknown): unknown => Object.is(item, -0) ? NEGATIVE_ZERO : item

/**
 * JSON.stringify, except that -0 is written -0.0: JSON.stringify(-0) is "0", which would answer a
 * client's own -0 (a min, say) as +0, or store it as +0. JSON.parse in JavaScript and json.loads in
 * Python both read -0.0 back as -0.
 */
export function signedZeroJson (value: unknown): string {
  return JSON.stringify(value, markNegativeZero).replaceAll(MARKED, '-0.0')
}

const markedSerializer = createSerializerCompiler({ replacer: markNegativeZero })

/** The zod type provider's serializer compiler (encode through the schema, then stringify), writing -0 as -0.0. */
export function signedZeroSerializer (route: RouteSchema): (data: unknown) => string {
  const serialize = markedSerializer(route as Parameters<typeof markedSerializer>[0])
  return (data) => serialize(data).replaceAll(MARKED, '-0.0')
}
