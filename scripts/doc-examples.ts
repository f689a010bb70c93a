// `npm run docs:examples -- [--write] [--all] [doc.md ...]`: runs the console examples of the README and
// docs/ (or of the docs named) as test/doc-examples.test.ts does, and prints where an answer differs
// from its doc. `--write` reprints those examples' output in the doc from this run (`--all`: every
// example of the doc), and puts the ids this run gave wherever the doc named the ones they replace.
import { readFileSync, writeFileSync } from 'node:fs'
import { projectPath } from '../src/platform/paths.js'
import { DocExampleRun, docsWithExamples } from '../test/support/doc-example-runner.js'
import { differences, pairedLines, reprinted, UUID, type Example } from '../test/support/doc-examples.js'

const args = process.argv.slice(2)
const write = args.includes('--write')
const all = args.includes('--all')
const named = args.filter((arg) => !arg.startsWith('--'))

let differing = 0
for (const { doc, examples } of docsWithExamples().filter(({ doc }) => named.length === 0 || named.includes(doc))) {
  const run = new DocExampleRun()
  const reprints = new Map<Example, string[]>()
  try {
    for (const example of examples) {
      if (example.notRun !== undefined) continue
      const actual = await run.run(example)
      const found = differences(example, actual)
      if (found.length > 0) {
        differing++
        console.log(`${doc}: $ ${example.command}\n  ${found.join('\n  ')}`)
      }
      if (found.length > 0 || all) reprints.set(example, reprinted(example, actual))
    }
  } finally {
    await run.stop()
  }
  if (write && reprints.size > 0) {
    writeFileSync(projectPath(doc), reprint(readFileSync(projectPath(doc), 'utf8'), examples, reprints))
    console.log(`${doc}: ${reprints.size} example(s) reprinted`)
  }
}
console.log(differing === 0 ? 'every example answers as its doc shows it' : `${differing} example(s) differ from their doc`)
process.exitCode = differing > 0 && !write ? 1 : 0

/** The Markdown with the given examples' output lines replaced, and the ids they replaced renamed everywhere. */
function reprint (markdown: string, examples: Example[], reprints: Map<Example, string[]>): string {
  const lines = markdown.split('\n')
  const renamed = new Map<string, string>()
  // The examples in the order examplesOf found them: each command's line, then its output's.
  let index = 0
  let inBlock = false
  for (let at = 0; at < lines.length; at++) {
    const line = lines[at]!
    if (line === '```console') { inBlock = true; continue }
    if (inBlock && line === '```') { inBlock = false; continue }
    if (!inBlock || !line.startsWith('$ ')) continue
    const example = examples[index++]!
    const output = reprints.get(example)
    if (output === undefined) continue
    let end = at + 1
    while (!lines[end]!.startsWith('$ ') && lines[end] !== '```') end++
    const kept = lines.slice(at + 1, end)
    for (const [docLine, newLine] of pairedLines(example, output)) {
      const newIds = newLine.match(UUID) ?? []
      docLine.match(UUID)?.forEach((id, k) => { if (newIds[k] !== undefined) renamed.set(id, newIds[k]) })
    }
    // In place where the line count holds, so the blank lines between events stay.
    let next = 0
    const replaced = kept.filter((text) => text !== '').length === output.length
      ? kept.map((text) => text === '' ? text : output[next++]!)
      : output
    lines.splice(at + 1, end - at - 1, ...replaced)
    at += replaced.length
  }
  return lines.join('\n').replace(UUID, (id) => renamed.get(id) ?? id)
}
