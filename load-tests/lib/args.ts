import { parseArgs } from 'node:util'

export type ExecutorKind = 'pool' | 'inline'

/** One server configuration to compare with others in the same run. */
export interface Variant {
  name: string
  /** Environment on top of --server-env. */
  env: Record<string, string>
  /** Another build's server entry point (e.g. a checkout of main), instead of this one's dist/src/server.js. */
  entry?: string
}

/** Another server with the same contract, started by a shell command with `{PORT}` in it. */
export interface Peer {
  name: string
  command: string
}

/** One server under load in a run: the service with one executor, or a peer. */
export type Target =
  | { name: string, kind: 'service', executor: ExecutorKind, terms: number }
  | { name: string, kind: 'peer', command: string, terms: number }

/** The name of the run that loads the pool server with small ranges, answered on its event loop. */
export const IN_PLACE = 'in-place'

export interface LoadTestOptions {
  /** Terms per request: each POST sums i*i over [0, terms). */
  terms: number
  connections: number
  /** Seconds of measured load per executor. */
  durationS: number
  /** Seconds of load before measuring, so the kernel is optimised and the pool started. */
  warmupS: number
  /** Seconds of probing with no load, for the idle baseline. */
  idleS: number
  /** Seconds of probing after the load stops, to show the recovery on the chart. */
  tailS: number
  probeIntervalMs: number
  executors: ExecutorKind[]
  /** Servers to run after the service, with the same load and probes. */
  peers: Peer[]
  /**
   * Terms per request of an extra run of the pool server whose ranges are small enough to be summed
   * on its event loop: the baseline of the event-loop cost of offloading. Undefined: no such run.
   */
  inPlaceTerms: number | undefined
  /** POOL_THREADS for the pool server; its default (one per core) when undefined. */
  threads: number | undefined
  /** Extra environment for both servers (NAME=value), for experiments with the service's settings. */
  serverEnv: Record<string, string>
  /** Server configurations compared side by side: each executor runs once per variant per round. Empty: one, unnamed. */
  variants: Variant[]
  /** Times the whole sequence runs; variants alternate their order from round to round. */
  rounds: number
  /** Extra Node.js flags for the server processes, such as --trace-deopt. */
  nodeArgs: string[]
  outDir: string
  quick: boolean
}

export const usage = `Usage: npm run loadtest -- [options]

Starts the service twice on loopback (EXECUTOR=pool, then EXECUTOR=inline), then any peers, and for
each: warms up, probes GET /probe idle, then drives POST /v1/sum-of-squares with autocannon while a
separate process probes GET /probe at a fixed rate. Writes JSON, a Markdown summary and an SVG chart.

  --terms N             terms per request                        (default 1000000)
  --connections N       autocannon connections                   (default 4)
  --duration S          seconds of load per executor             (default 20)
  --warmup S            seconds of unmeasured load first         (default 3)
  --idle S              seconds of idle probing                  (default 5)
  --probe-interval MS   probe period, one keep-alive connection  (default 20)
  --executors LIST      comma-separated: pool,inline             (default pool,inline)
  --threads N           POOL_THREADS for the pool server         (default: one per core)
  --peer NAME=COMMAND   also start another server with the same contract and load it the same way,
                        after the service (repeatable); COMMAND runs in a shell with {PORT}
                        replaced, e.g. --peer go='/tmp/go-peer {PORT}'
  --in-place N          also load the pool server with N-term requests, which it sums on its event
                        loop (N <= INLINE_MAX_TERMS), to compare the event loop's CPU per request
  --server-env K=V      extra environment for the servers (repeatable)
  --variant NAME=SPEC   a server configuration to compare (repeatable); SPEC is space-separated
                        K=V environment and optionally entry:PATH (another build's server.js),
                        e.g. --variant 'info=LOG_LEVEL=info' --variant 'warn=LOG_LEVEL=warn'
  --rounds N            run every target (executors, in-place, peers) and variant N times, alternating the order (default 1)
  --node-arg FLAG       extra Node.js flag for the servers (repeatable), e.g. --trace-deopt
  --out DIR             output directory                         (default load-tests/results)
  --quick               about 15 s in all: proves the tool works, numbers mean little
  -h, --help`

function positiveNumber (name: string, value: string | undefined, fallback: number, integer = true): number {
  if (value === undefined) return fallback
  const parsed = Number(value)
  if (!Number.isFinite(parsed) || parsed <= 0 || (integer && !Number.isInteger(parsed))) {
    throw new Error(`--${name} must be a positive ${integer ? 'whole ' : ''}number, got ${JSON.stringify(value)}`)
  }
  return parsed
}

/** Parses the command line; throws with a message fit for the user on a bad flag. */
export function parseLoadTestArgs (argv: string[]): LoadTestOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      terms: { type: 'string' },
      connections: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      idle: { type: 'string' },
      'probe-interval': { type: 'string' },
      executors: { type: 'string' },
      threads: { type: 'string' },
      peer: { type: 'string', multiple: true },
      'in-place': { type: 'string' },
      'server-env': { type: 'string', multiple: true },
      variant: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) return 'help'

  const quick = values.quick
  const executors = (values.executors ?? 'pool,inline').split(',').map((name) => name.trim())
  for (const name of executors) {
    if (name !== 'pool' && name !== 'inline') throw new Error(`--executors takes pool and/or inline, got ${JSON.stringify(name)}`)
  }
  if (executors.length === 0 || new Set(executors).size !== executors.length) throw new Error('--executors must name each executor at most once')

  const serverEnv = envPairs('--server-env', values['server-env'] ?? [])
  const variants = (values.variant ?? []).map(parseVariant)
  if (new Set(variants.map((variant) => variant.name)).size !== variants.length) throw new Error('--variant names must differ')

  const peers: Peer[] = []
  for (const spec of values.peer ?? []) {
    const match = /^([a-z][a-z0-9-]*)=(.+)$/s.exec(spec)
    if (match === null) throw new Error(`--peer takes NAME=COMMAND with a lower-case NAME, got ${JSON.stringify(spec)}`)
    const [, name, command] = match as unknown as [string, string, string]
    if (!command.includes('{PORT}')) throw new Error(`--peer ${name}: the command must contain {PORT}, where the peer's port goes`)
    if (([...executors, IN_PLACE] as string[]).includes(name) || peers.some((peer) => peer.name === name)) {
      throw new Error(`--peer ${name}: that name is taken; each run needs its own`)
    }
    peers.push({ name, command })
  }

  return {
    terms: positiveNumber('terms', values.terms, 1_000_000),
    connections: positiveNumber('connections', values.connections, 4),
    durationS: positiveNumber('duration', values.duration, quick ? 3 : 20, false),
    warmupS: positiveNumber('warmup', values.warmup, quick ? 1 : 3, false),
    idleS: positiveNumber('idle', values.idle, quick ? 1.5 : 5, false),
    tailS: quick ? 0.5 : 1,
    probeIntervalMs: positiveNumber('probe-interval', values['probe-interval'], 20, false),
    executors: executors as ExecutorKind[],
    peers,
    inPlaceTerms: values['in-place'] === undefined ? undefined : positiveNumber('in-place', values['in-place'], 1),
    threads: values.threads === undefined ? undefined : positiveNumber('threads', values.threads, 1),
    serverEnv,
    variants,
    rounds: positiveNumber('rounds', values.rounds, 1),
    nodeArgs: values['node-arg'] ?? [],
    outDir: values.out ?? 'load-tests/results',
    quick
  }
}

function envPairs (flag: string, pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair)
    if (match === null) throw new Error(`${flag} takes NAME=value, got ${JSON.stringify(pair)}`)
    env[match[1]!] = match[2]!
  }
  return env
}

/** `name=K=V K2=V2 entry:/path/server.js` into a Variant. */
function parseVariant (text: string): Variant {
  const match = /^([\w.-]+)=(.*)$/s.exec(text)
  if (match === null) throw new Error(`--variant takes NAME=SPEC, got ${JSON.stringify(text)}`)
  const tokens = match[2]!.split(/\s+/).filter(Boolean)
  const entry = tokens.find((token) => token.startsWith('entry:'))?.slice('entry:'.length)
  const env = envPairs(`--variant ${match[1]}`, tokens.filter((token) => !token.startsWith('entry:')))
  return { name: match[1]!, env, ...(entry === undefined ? {} : { entry }) }
}

/** Every server a run loads, in order: the service's executors, the in-place baseline, then the peers. */
export function targetsOf (options: LoadTestOptions): Target[] {
  return [
    ...options.executors.map((executor) => ({ name: executor, kind: 'service' as const, executor, terms: options.terms })),
    ...(options.inPlaceTerms === undefined ? [] : [{ name: IN_PLACE, kind: 'service' as const, executor: 'pool' as const, terms: options.inPlaceTerms }]),
    ...options.peers.map((peer) => ({ name: peer.name, kind: 'peer' as const, command: peer.command, terms: options.terms }))
  ]
}
