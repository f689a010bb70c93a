/**
 * Which methods the app's routes take at a path, for a 405's `Allow`: Fastify's router answers a
 * known path asked with another method with 404. Route patterns are matched segment by segment
 * (`:id` matches one, a trailing `*` the rest); a route of `*` alone (a CORS preflight) adds its
 * method to every path that has another.
 */
export class RouteMethods {
  readonly #routes: Array<{ pattern: RegExp, methods: string[] }> = []
  readonly #everywhere = new Set<string>()

  add (method: string | string[], url: string): void {
    const methods = Array.isArray(method) ? method : [method]
    if (url === '*' || url === '/*') {
      for (const one of methods) this.#everywhere.add(one)
      return
    }
    this.#routes.push({ pattern: patternOf(url), methods })
  }

  /** The methods some route takes at `path`, sorted; none when no route's pattern matches it. */
  allowed (path: string): string[] {
    const methods = new Set<string>()
    for (const route of this.#routes) if (route.pattern.test(path)) for (const method of route.methods) methods.add(method)
    if (methods.size === 0) return []
    // Fastify answers HEAD wherever it answers GET.
    if (methods.has('GET')) methods.add('HEAD')
    for (const method of this.#everywhere) methods.add(method)
    return [...methods].sort()
  }
}

function patternOf (url: string): RegExp {
  const escaped = url.split('/').map((segment) => {
    if (segment === '*') return '.*'
    if (segment.startsWith(':')) return '[^/]+'
    return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  })
  return new RegExp(`^${escaped.join('/')}/?$`)
}
