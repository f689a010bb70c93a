import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'

/**
 * The suite's one polling helper. Calls `check` every `everyMs` until it returns a value other than
 * undefined or false (resolved with it), or until `timeoutMs` has passed (rejected with the last
 * assertion `check` threw, so `expect` inside it reports its own diff). The timeout is a bound for
 * a busy machine, never a measurement: what a test waits for is a state, not a time.
 */
export async function until<T> (check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    let failure: unknown
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      failure = error
    }
    if (performance.now() > deadline) throw failure ?? new Error(`condition not met within ${timeoutMs} ms`)
    await sleep(everyMs)
  }
}
