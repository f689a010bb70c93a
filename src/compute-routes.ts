/**
 * The CPU-heavy API lives under /v1/. Access control guards exactly these routes, and the OpenAPI
 * document marks exactly these as needing a key, so both follow any route added there.
 */
export const COMPUTE_PREFIX = '/v1/'

export function isComputeRoute (url: string | undefined): boolean {
  return url !== undefined && url.startsWith(COMPUTE_PREFIX)
}
