import { fileURLToPath } from 'node:url'

// This module is src/platform/paths.ts when run from source (vitest) and dist/src/platform/paths.js once compiled.
const fromSource = import.meta.url.endsWith('.ts')

/** The repository root (or the image's /app): where package.json lives. */
export const projectRoot = new URL(fromSource ? '../../' : '../../../', import.meta.url)

/**
 * Absolute path of a compiled file, such as 'workers/pool-worker.js'. Worker threads and child
 * processes run outside vitest's TypeScript transform, so they always load the build output.
 */
export function compiledPath (relative: string): string {
  return fileURLToPath(new URL(`dist/${relative}`, projectRoot))
}

/** Absolute path of a file in the repository, such as 'load-tests/results'. */
export function projectPath (relative: string): string {
  return fileURLToPath(new URL(relative, projectRoot))
}
