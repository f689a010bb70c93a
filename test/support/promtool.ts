import { execFile } from 'node:child_process'

export interface PromtoolRun {
  code: number
  stdout: string
  stderr: string
}

/**
 * Runs promtool, with `input` on its stdin, and resolves with its exit code and output whatever the
 * code: `check metrics` exits non-zero for lint findings that callers sort themselves. A missing
 * promtool fails with how to get it (.ci/run installs it).
 */
export async function runPromtool (args: string[], input = ''): Promise<PromtoolRun> {
  return await new Promise((resolve, reject) => {
    const child = execFile('promtool', args, { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code
      if (code === 'ENOENT') reject(new Error('promtool not found: apt-get install prometheus (Debian), as .ci/run does'))
      else if (error !== null && typeof code !== 'number') reject(error)
      else resolve({ code: typeof code === 'number' ? code : 0, stdout, stderr })
    })
    // A promtool that is missing or exits before reading it all is reported above, not as EPIPE.
    child.stdin?.on('error', () => {})
    child.stdin?.end(input)
  })
}

/** promtool's output, or a failure that shows it when promtool exits non-zero. */
export async function promtool (...args: string[]): Promise<PromtoolRun> {
  const run = await runPromtool(args)
  if (run.code !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`)
  return run
}
