import { serializerCompiler } from 'fastify-type-provider-zod'

type ZodRouteSchema = Parameters<typeof serializerCompiler>[0]

const NEGATIVE_ZERO = '\u0000-0'

/**
 * JSON.stringify, except that -0 is written -0.0: JSON.stringify(-0) is "0", which would answer a
 * client's own -0 (a min, say) as +0. JSON.parse in JavaScript and json.loads in Python both read
 * -0.0 back as -0.
 */
export function signedZeroJson (value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => Object.is(item, -0) ? NEGATIVE_ZERO : item)
    .replaceAll(JSON.stringify(NEGATIVE_ZERO), '-0.0')
}

/** A route's serializer compiler: its 200 reply by signedZeroJson, every other status as on every route. */
export function signedZeroSerializer (route: { httpStatus?: string }): (data: unknown) => string {
  return route.httpStatus === '200' ? signedZeroJson : serializerCompiler(route as ZodRouteSchema)
}
