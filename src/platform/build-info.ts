import { readFileSync } from 'node:fs'
import { projectPath } from './paths.js'

export interface BuildInfo {
  name: string
  version: string
  /** The git commit the running code was built from, or `unknown`. */
  commit: string
  /** The Node.js version running it. */
  node: string
}

/** Written by `npm run build` (`git rev-parse HEAD`); absent or `unknown` where the build had no git. */
const COMMIT_FILE = 'dist/commit.txt'
const COMMIT = /^[0-9a-f]{7,64}$/

/**
 * What is running: name and version from package.json, the commit from `GIT_COMMIT` (the image bakes
 * it in as a build argument), else from the file the build wrote, else `unknown`.
 */
export function buildInfo (gitCommit: string | undefined): BuildInfo {
  const { name, version } = JSON.parse(readFileSync(projectPath('package.json'), 'utf8')) as { name: string, version: string }
  return { name, version, commit: gitCommit ?? builtCommit(), node: process.version }
}

function builtCommit (): string {
  try {
    const commit = readFileSync(projectPath(COMMIT_FILE), 'utf8').trim()
    return COMMIT.test(commit) ? commit : 'unknown'
  } catch {
    return 'unknown'
  }
}
