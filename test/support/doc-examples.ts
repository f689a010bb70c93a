/** One `$ command` of a doc's console block, with the lines it printed there. */
export interface Example {
  command: string
  output: string[]
  /** Settings of the server it runs on, on top of the test's defaults: its block's `<!-- example server: K=V ... -->`. */
  server: Record<string, string>
  /** Why it is not run, from its block's `<!-- example not run: reason -->`; undefined when it is run. */
  notRun?: string
}

/** A marker on the line right above a ```console block (a blank line between is allowed). */
const MARKER = /^<!-- example (server|not run): .* -->$/gm
const BLOCK = /^(?:<!-- example (server|not run): (.*?) -->\n\n?)?```console\n([\s\S]*?)^```$/gm

/**
 * Every `$ command` of a Markdown text's ```console blocks, in order, with the output printed below it
 * and its block's marker. A marker that is not right above a console block is an error, not ignored.
 */
export function examplesOf (markdown: string): Example[] {
  const examples: Example[] = []
  let markers = 0
  for (const [, kind, value = '', body] of markdown.matchAll(BLOCK)) {
    if (kind !== undefined) markers++
    const server = kind === 'server' ? settingsOf(value) : {}
    const notRun = kind === 'not run' ? value : undefined
    let current: Example | undefined
    for (const line of body!.split('\n').filter((text) => text !== '')) {
      if (line.startsWith('$ ')) {
        current = { command: line.slice(2), output: [], server, ...(notRun === undefined ? {} : { notRun }) }
        examples.push(current)
      } else {
        current?.output.push(line)
      }
    }
  }
  const written = [...markdown.matchAll(MARKER)].length
  if (written !== markers) throw new Error(`${written - markers} example marker(s) not right above a console block`)
  return examples
}

function settingsOf (text: string): Record<string, string> {
  return Object.fromEntries(text.split(/\s+/).filter(Boolean).map((setting) => {
    const [name = '', ...value] = setting.split('=')
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name) || value.length === 0) throw new Error(`example server setting ${JSON.stringify(setting)} is not NAME=value`)
    return [name, value.join('=')]
  }))
}

/**
 * Fields whose value is one run's, not the contract's: a request's or job's id, clocks, durations,
 * what this build and runtime are. Both sides must still have them.
 */
const RUN_FIELDS = new Set(['elapsedMs', 'id', 'requestId', 'createdAt', 'startedAt', 'finishedAt', 'commit', 'node', 'instance'])

/** Fields a job has or has not yet, depending on how far it got when asked. */
const PROGRESS_FIELDS = new Set(['startedAt', 'finishedAt', 'elapsedMs', 'result', 'error'])

/** Answers whose values are the moment's (load, memory, a job's progress): only their shape is the contract. */
const LIVE_PATHS = [/\/probe\b/, /\/v1\/jobs\b/]

/** What a live answer still holds to its value: the task, and an error's cause (`status` when it is a number). */
const CAUSE_FIELDS = new Set(['task', 'type', 'title', 'code', 'statusCode', 'error'])

/** What a job holds exactly however far it got: what it was asked, and what it answered. */
const EXACT_FIELDS = new Set(['input', 'result'])

/** Headers whose value is the clock's: when, how long, how much of a window is left. */
const CLOCK_HEADERS = new Set(['date', 'content-length', 'server-timing', 'ratelimit-reset', 'retry-after'])

/** Text that is one run's wherever it stands: ids, and seconds counting down to a window's end. */
export const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g
const runFree = (text: string) => text.replace(UUID, '<id>').replace(/\bretry in \d+ s\b/g, 'retry in <n> s')

/** A line of Prometheus text: the series, then a number (counts and timings: only the series is the contract). */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (?:[+-]?Inf|NaN|-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)$/

/** In a doc's output, a line of its own that stands for any number of lines not shown. */
const ELIDED = '...'

/**
 * Where the actual output differs from the doc's, as readable lines; empty when it matches. JSON
 * answers must have the same fields, recursively, with the same values but for RUN_FIELDS (and, for
 * LIVE_PATHS, the same types only, except CAUSE_FIELDS and EXACT_FIELDS); metrics
 * the same series; headers the same values but for CLOCK_HEADERS; any other line must be equal, ids
 * aside. A `...` line skips actual lines up to the next one that matches.
 */
export function differences (example: Example, actual: string[]): string[] {
  return aligned(example, actual).differences
}

/** Each line of the doc's output with the actual line it was compared with (`...` skips some). */
export function pairedLines (example: Example, actual: string[]): Array<[doc: string, actual: string]> {
  return aligned(example, actual).pairs
}

function aligned (example: Example, actual: string[]): { differences: string[], pairs: Array<[string, string]>, complete: boolean } {
  const live = LIVE_PATHS.some((path) => path.test(example.command))
  const expected = example.output
  if (!expected.includes(ELIDED) && actual.length !== expected.length) {
    const pairs = expected.flatMap((line, index): Array<[string, string]> => index < actual.length ? [[line, actual[index]!]] : [])
    return { differences: [`printed ${actual.length} lines, the doc shows ${expected.length}: ${JSON.stringify(actual)}`], pairs, complete: false }
  }
  const found: string[] = []
  const pairs: Array<[string, string]> = []
  let next = 0
  for (const [index, line] of expected.entries()) {
    if (line === ELIDED) {
      const following = expected[index + 1]
      if (following === undefined) next = actual.length
      else while (next < actual.length && lineDifferences(following, actual[next]!, live, '').length > 0) next++
      continue
    }
    if (next >= actual.length) {
      found.push(`line ${index + 1}: missing, the doc has ${JSON.stringify(line)}; printed ${JSON.stringify(actual)}`)
      break
    }
    found.push(...lineDifferences(line, actual[next]!, live, `line ${index + 1}`))
    pairs.push([line, actual[next]!])
    next++
  }
  const complete = pairs.length === expected.filter((line) => line !== ELIDED).length && next === actual.length
  if (next < actual.length) found.push(`printed ${actual.length - next} more lines than the doc shows: ${JSON.stringify(actual.slice(next))}`)
  return { differences: found, pairs, complete }
}

/**
 * The doc's output reprinted from an actual one: each line the actual line it was compared with, a
 * `...` kept where it skipped some; the whole actual output where the two do not line up.
 */
export function reprinted (example: Example, actual: string[]): string[] {
  const { pairs, complete } = aligned(example, actual)
  if (!complete) return actual
  let next = 0
  return example.output.map((line) => line === ELIDED ? line : pairs[next++]![1])
}

function lineDifferences (expected: string, got: string, live: boolean, at: string): string[] {
  const [prefix = '', json] = /^(data: )?([[{].*)$/.exec(expected)?.slice(1) ?? []
  const want = json === undefined ? undefined : parsed(json)
  // Not JSON in the doc (a line of text, or JSON cut short by `head -c`): the same line.
  if (want === undefined) {
    const sample = SAMPLE.exec(expected)
    const header = /^([A-Za-z][A-Za-z0-9-]*): /.exec(expected)
    const same = sample !== null
      ? SAMPLE.exec(got)?.[1] === sample[1]
      : header !== null && CLOCK_HEADERS.has(header[1]!.toLowerCase())
        ? got.toLowerCase().startsWith(header[0].toLowerCase())
        : runFree(got) === runFree(expected)
    return same ? [] : [`${at}: ${JSON.stringify(got)}, the doc: ${JSON.stringify(expected)}`]
  }
  const answer = got.startsWith(prefix) ? parsed(got.slice(prefix.length)) : undefined
  if (answer === undefined) return [`${at}: ${JSON.stringify(got)} is not like ${JSON.stringify(expected)}`]
  return compare(want.value, answer.value, live, at)
}

function parsed (text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) }
  } catch {
    return undefined
  }
}

function compare (expected: unknown, actual: unknown, live: boolean, at: string, key = ''): string[] {
  if (typeof expected !== typeof actual || Array.isArray(expected) !== Array.isArray(actual) || (expected === null) !== (actual === null)) {
    return [`${at}: ${JSON.stringify(actual)} where the doc has ${JSON.stringify(expected)}`]
  }
  if (typeof expected === 'object' && expected !== null) {
    const want = expected as Record<string, unknown>
    const got = actual as Record<string, unknown>
    const keys = (value: object) => Object.keys(value).filter((field) => !live || !PROGRESS_FIELDS.has(field)).sort().join(',')
    if (Array.isArray(expected)) {
      if (live) return []
      if (expected.length !== (actual as unknown[]).length) return [`${at}: ${JSON.stringify(actual)} where the doc has ${JSON.stringify(expected)}`]
    } else if (keys(want) !== keys(got)) {
      return [`${at}: fields ${keys(got)} where the doc has ${keys(want)}`]
    }
    return Object.keys(want).filter((field) => field in got).flatMap((field) => compare(want[field], got[field], live && !EXACT_FIELDS.has(field), `${at}.${field}`, field))
  }
  const cause = CAUSE_FIELDS.has(key) || (key === 'status' && typeof expected === 'number')
  if (RUN_FIELDS.has(key) || (live && !cause)) return []
  const same = typeof expected === 'string' ? runFree(expected) === runFree(actual as string) : Object.is(expected, actual)
  return same ? [] : [`${at}: ${JSON.stringify(actual)} where the doc has ${JSON.stringify(expected)}`]
}
