import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, relative, resolve, sep } from 'node:path'
import GithubSlugger from 'github-slugger'
import MarkdownIt from 'markdown-it'
import { describe, expect, it } from 'vitest'
import type { ZodObject } from 'zod'
import { configSchema, loadConfig } from '../src/platform/config.js'
import { projectPath } from '../src/platform/paths.js'

const README_MAX_LINES = 250
const root = projectPath('.')
/** Repository paths named in `code` are checked too; run output under this folder is git-ignored. */
const REPO_PATH = /^(?:\.ci|assembly|bench|deploy|docs|load-tests|routes|scripts|src|test|workers)\/[\w./-]*$|^(?:Dockerfile|\.dockerignore|package(?:-lock)?\.json|tsconfig(?:\.build)?\.json)$/
const GENERATED = 'load-tests/results'

const pages = ['README.md', ...readdirSync(projectPath('docs'), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name.split(sep).join('/')}`)]

interface Page {
  /** GitHub's heading anchors, duplicates numbered as GitHub numbers them. */
  anchors: Set<string>
  links: Array<{ href: string, line: number }>
  codePaths: Array<{ path: string, line: number }>
}

const markdown = new MarkdownIt()
const parsed = new Map<string, Page>()

/** Parses a page once: its heading anchors, its links and images, and the repository paths it names in code spans. */
function page (file: string): Page {
  const cached = parsed.get(file)
  if (cached !== undefined) return cached
  const tokens = markdown.parse(readFileSync(projectPath(file), 'utf8'), {})
  const slugger = new GithubSlugger()
  const result: Page = { anchors: new Set(), links: [], codePaths: [] }
  // Inline tokens in table cells carry no line of their own: the row's line stands in.
  let line = 1
  tokens.forEach((token, index) => {
    if (token.map !== null) line = token.map[0] + 1
    if (token.type === 'heading_open') {
      // GitHub slugs the heading's rendered text: markup gone, the text of code spans kept.
      const text = (tokens[index + 1]?.children ?? [])
        .filter((child) => child.type === 'text' || child.type === 'code_inline')
        .map((child) => child.content).join('')
      result.anchors.add(slugger.slug(text))
    }
    if (token.type !== 'inline') return
    for (const child of token.children ?? []) {
      const href = child.type === 'link_open' ? child.attrGet('href') : child.type === 'image' ? child.attrGet('src') : null
      if (href !== null) result.links.push({ href: String(href), line })
      if (child.type === 'code_inline' && REPO_PATH.test(child.content) && !child.content.startsWith(GENERATED)) {
        result.codePaths.push({ path: child.content, line })
      }
    }
  })
  parsed.set(file, result)
  return result
}

/** What is wrong with one link from `file`, or undefined when it lands where it says. */
function brokenLink (file: string, href: string): string | undefined {
  // Absolute URLs (http:, mailto:) are someone else's to keep working.
  if (/^[a-z][a-z\d+.-]*:/i.test(href) || href.startsWith('//')) return undefined
  const hash = href.indexOf('#')
  const path = decodeURIComponent(hash < 0 ? href : href.slice(0, hash))
  const anchor = hash < 0 ? undefined : decodeURIComponent(href.slice(hash + 1))
  const target = path === '' ? projectPath(file) : resolve(dirname(projectPath(file)), path)
  const inRepo = relative(root, target)
  if (inRepo.startsWith('..')) return 'points outside the repository'
  if (!existsSync(target)) return `${inRepo} does not exist`
  if (anchor === undefined) return undefined
  if (!target.endsWith('.md')) return `#${anchor} into ${inRepo}, which is not a Markdown page`
  const anchors = page(inRepo.split(sep).join('/')).anchors
  return anchors.has(anchor) ? undefined : `${inRepo} has no heading #${anchor}`
}

describe('the README and docs/', () => {
  it('include the README and the docs pages', () => {
    expect(pages).toContain('README.md')
    expect(pages).toContain('docs/api.md')
  })

  it.each(pages)('%s: every relative link and #anchor resolves', (file) => {
    const broken = page(file).links
      .map(({ href, line }) => ({ problem: brokenLink(file, href), at: `${file}:${line} (${href})` }))
      .filter(({ problem }) => problem !== undefined)
      .map(({ problem, at }) => `${at}: ${problem}`)
    expect(broken).toEqual([])
  })

  it.each(pages)('%s: every repository path named in `code` exists', (file) => {
    const missing = page(file).codePaths
      .filter(({ path }) => !existsSync(projectPath(path)))
      .map(({ path, line }) => `${file}:${line}: ${path}`)
    expect(missing).toEqual([])
  })

  it(`keep the README a front page of at most ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(projectPath('README.md'), 'utf8').split('\n')
    if (lines.at(-1) === '') lines.pop()
    expect(lines.length).toBeLessThanOrEqual(README_MAX_LINES)
  })
})

describe('the README\'s configuration table', () => {
  const readme = readFileSync(projectPath('README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('\n## Configuration\n'), readme.indexOf('\n## ', readme.indexOf('\n## Configuration\n') + 1))
  const rows = new Map([...section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((match) => [match[1]!, match[2]!.trim()]))
  // The schema's input side names every variable, whether or not it has a default.
  const variables = Object.keys((('in' in configSchema ? configSchema.in : configSchema) as ZodObject).shape)

  it('lists every variable of src/platform/config.ts, and no other', () => {
    expect([...rows.keys()].sort()).toEqual([...variables].sort())
  })

  it('gives each fixed default as the code has it', () => {
    const defaults = loadConfig({}) as Record<string, unknown>
    // These follow the machine (cores, memory, open-files limit); the table says so in words.
    const machineDependent = new Set(['POOL_THREADS', 'POOL_MAX_QUEUE_MS', 'JOB_THREADS', 'UPLOAD_MEMORY_MAX_BYTES', 'UPLOAD_MEMORY_PER_CLIENT_BYTES', 'MAX_CONNECTIONS'])
    const wrong = variables
      .filter((name) => defaults[name] !== undefined && !machineDependent.has(name))
      .filter((name) => !rows.get(name)?.startsWith(`\`${String(defaults[name])}\``))
      .map((name) => `${name}: table says ${rows.get(name)}, code says ${String(defaults[name])}`)
    expect(wrong).toEqual([])
  })
})
