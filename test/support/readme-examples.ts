/** One `$ command` of a README console block, with the lines it printed there. */
export interface Example {
  command: string
  output: string[]
}

/** Every `$ command` of a Markdown text's ```console blocks, in order, with the output printed below it. */
export function examplesOf (markdown: string): Example[] {
  const examples: Example[] = []
  for (const block of markdown.matchAll(/^```console\n([\s\S]*?)^```$/gm)) {
    let current: Example | undefined
    for (const line of block[1]!.split('\n').filter((text) => text !== '')) {
      if (line.startsWith('$ ')) {
        current = { command: line.slice(2), output: [] }
        examples.push(current)
      } else {
        current?.output.push(line)
      }
    }
  }
  return examples
}

/**
 * Fields whose value is one run's, not the contract's: a request's or job's id, clocks, durations,
 * what this build and runtime are. Both sides must still have them.
 */
const RUN_FIELDS = new Set(['elapsedMs', 'id', 'requestId', 'createdAt', 'startedAt', 'finishedAt', 'commit', 'node', 'instance'])

/** Fields a job has or has not yet, depending on how far it got when asked. */
const PROGRESS_FIELDS = new Set(['startedAt', 'finishedAt', 'result', 'error'])

/** Answers whose values are the moment's (load, memory, a job's progress): only their shape is the contract. */
const LIVE_PATHS = [/\/probe\b/, /\/v1\/jobs\b/]

/**
 * Where the actual output differs from the README's, as readable lines; empty when it matches. JSON
 * answers must have the same fields, recursively, with the same values but for RUN_FIELDS (and, for
 * LIVE_PATHS, the same types only, except a job's `result`, which is exact); any other line must be equal.
 */
export function differences (example: Example, actual: string[]): string[] {
  const live = LIVE_PATHS.some((path) => path.test(example.command))
  if (actual.length !== example.output.length) return [`printed ${actual.length} lines, the README shows ${example.output.length}: ${JSON.stringify(actual)}`]
  return example.output.flatMap((expected, index) => {
    const got = actual[index]!
    const [prefix = '', json] = /^(data: )?([[{].*)$/.exec(expected)?.slice(1) ?? []
    const want = json === undefined ? undefined : parsed(json)
    // Not JSON in the README (a line of text, or JSON cut short by `head -c`): the same line.
    if (want === undefined) return got === expected ? [] : [`line ${index + 1}: ${JSON.stringify(got)}, README: ${JSON.stringify(expected)}`]
    const answer = got.startsWith(prefix) ? parsed(got.slice(prefix.length)) : undefined
    if (answer === undefined) return [`line ${index + 1}: ${JSON.stringify(got)} is not like ${JSON.stringify(expected)}`]
    return compare(want.value, answer.value, live, `line ${index + 1}`)
  })
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
    return [`${at}: ${JSON.stringify(actual)} where the README has ${JSON.stringify(expected)}`]
  }
  if (typeof expected === 'object' && expected !== null) {
    const want = expected as Record<string, unknown>
    const got = actual as Record<string, unknown>
    const keys = (value: object) => Object.keys(value).filter((field) => !live || !PROGRESS_FIELDS.has(field)).sort().join(',')
    if (Array.isArray(expected)) {
      if (live) return []
      if (expected.length !== (actual as unknown[]).length) return [`${at}: ${JSON.stringify(actual)} where the README has ${JSON.stringify(expected)}`]
    } else if (keys(want) !== keys(got)) {
      return [`${at}: fields ${keys(got)} where the README has ${keys(want)}`]
    }
    return Object.keys(want).filter((field) => field in got).flatMap((field) => compare(want[field], got[field], live && field !== 'result', `${at}.${field}`, field))
  }
  if (RUN_FIELDS.has(key) || (live && key !== 'task')) return []
  return Object.is(expected, actual) ? [] : [`${at}: ${JSON.stringify(actual)} where the README has ${JSON.stringify(expected)}`]
}
