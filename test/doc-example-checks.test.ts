import { describe, expect, it } from 'vitest'
import { differences, examplesOf, pairedLines, reprinted } from './support/doc-examples.js'

// The checker of test/doc-examples.test.ts, on examples that drifted: each drift is reported.
describe('doc example checks', () => {
  const [sum, probe] = examplesOf([
    '```console',
    '$ curl -s localhost:3311/v1/sum -d x',
    '{"sum":0.6,"count":3,"mode":"exact","chunks":1,"elapsedMs":3.919}',
    '```',
    '```console',
    '$ curl -s localhost:3311/probe',
    '{"status":"ok","pool":{"threads":2,"queued":0}}',
    '```'
  ].join('\n'))

  it('reads each command and the lines printed below it', () => {
    expect(sum).toEqual({ command: 'curl -s localhost:3311/v1/sum -d x', output: ['{"sum":0.6,"count":3,"mode":"exact","chunks":1,"elapsedMs":3.919}'], server: {} })
    expect(probe?.command).toBe('curl -s localhost:3311/probe')
  })

  it('passes the same answer with another run\'s duration', () => {
    expect(differences(sum!, ['{"sum":0.6,"count":3,"mode":"exact","chunks":1,"elapsedMs":0.2}'])).toEqual([])
  })

  it('reports a changed value, a missing or added field, and another line count', () => {
    expect(differences(sum!, ['{"sum":0.7,"count":3,"mode":"exact","chunks":1,"elapsedMs":3.919}'])).toHaveLength(1)
    expect(differences(sum!, ['{"sum":0.6,"count":3,"mode":"exact","elapsedMs":3.919}'])).toHaveLength(1)
    expect(differences(sum!, ['{"sum":0.6,"count":3,"mode":"exact","chunks":1,"elapsedMs":3.919,"extra":1}'])).toHaveLength(1)
    expect(differences(sum!, [])).toHaveLength(1)
  })

  it('holds a live answer (the probe) to its shape only', () => {
    expect(differences(probe!, ['{"status":"ok","pool":{"threads":4,"queued":7}}'])).toEqual([])
    expect(differences(probe!, ['{"status":"ok","pool":{"threads":"4","queued":7}}'])).toHaveLength(1)
    expect(differences(probe!, ['{"status":"ok","pool":{"threads":4}}'])).toHaveLength(1)
  })
})

describe('doc example checks on a job', () => {
  const [job] = examplesOf('```console\n$ curl -s localhost:3311/v1/jobs/1\n{"id":"a","status":"running","startedAt":"t","progress":{"done":1}}\n```')

  it('lets a job be further along than the doc shows it, but not lose its other fields', () => {
    expect(differences(job!, ['{"id":"b","status":"succeeded","startedAt":"u","finishedAt":"v","result":"42","progress":{"done":9}}'])).toEqual([])
    expect(differences(job!, ['{"id":"b","status":"queued","progress":{"done":0}}'])).toEqual([])
    expect(differences(job!, ['{"id":"b","status":"queued"}'])).toHaveLength(1)
  })
})

describe('doc example checks on headers, metrics and elided lines', () => {
  const [limited] = examplesOf([
    '```console',
    '$ curl -si localhost:3311/v1/sum-of-squares',
    'HTTP/1.1 429 Too Many Requests',
    '...',
    'ratelimit-reset: 60',
    'location: /v1/jobs/f5fa3cb9-8768-48c5-ad11-27784c2536fd',
    '...',
    '{"detail":"Rate limit exceeded: retry in 60 s","requestId":"c96454c7-27ea-4246-b5d3-3a05c8d76cfd"}',
    '```'
  ].join('\n'))
  const answer = (status: string, detail = 'retry in 59 s') => [status, 'x-request-id: 04802b61-3506-46e2-b14b-2f85f602f775', 'ratelimit-reset: 59',
    'location: /v1/jobs/66ad51ab-cfd4-40f2-866f-23d5582d93a6', 'date: now', `{"detail":"Rate limit exceeded: ${detail}","requestId":"fa9427c8-ee76-4e42-914a-aa8cab4bf8d4"}`]

  it('skips what `...` stands for, and lets the clock and ids differ', () => {
    expect(differences(limited!, answer('HTTP/1.1 429 Too Many Requests'))).toEqual([])
    expect(pairedLines(limited!, answer('HTTP/1.1 429 Too Many Requests')).map(([doc]) => doc)).toEqual(limited!.output.filter((line) => line !== '...'))
  })

  it('reports another status, another sentence, and a line the doc shows that is missing', () => {
    expect(differences(limited!, answer('HTTP/1.1 200 OK'))).toHaveLength(1)
    expect(differences(limited!, answer('HTTP/1.1 429 Too Many Requests', 'slow down'))).toHaveLength(1)
    expect(differences(limited!, answer('HTTP/1.1 429 Too Many Requests').filter((line) => !line.startsWith('location')))).not.toEqual([])
  })

  it('holds metrics to their series, not their counts', () => {
    const [metrics] = examplesOf('```console\n$ curl -s localhost:3311/metrics\npool_threads 2\npool_tasks_completed_total{task="sum"} 9\n```')
    expect(differences(metrics!, ['pool_threads 4', 'pool_tasks_completed_total{task="sum"} 1.5e+3'])).toEqual([])
    expect(differences(metrics!, ['pool_threads 2', 'pool_tasks_completed_total{task="dot"} 9'])).toHaveLength(1)
  })

  it('reprints a doc\'s output from an actual one, keeping its `...`', () => {
    const actual = answer('HTTP/1.1 429 Too Many Requests')
    expect(reprinted(limited!, actual)).toEqual([actual[0], '...', actual[2], actual[3], '...', actual[5]])
  })
})

describe('doc example markers', () => {
  it('give a block its server settings, or the reason it is not run', () => {
    const [keyed, skipped, plain] = examplesOf([
      '<!-- example server: API_KEYS=k3y-alpha-0123456789abcdef RATE_LIMIT_MAX=3 -->',
      '```console', '$ curl -s localhost:3311/v1/sum', '```',
      '<!-- example not run: needs a cluster -->', '',
      '```console', '$ kubectl get pods', '```',
      '```console', '$ curl -s localhost:3311/probe', '```'
    ].join('\n'))
    expect(keyed!.server).toEqual({ API_KEYS: 'k3y-alpha-0123456789abcdef', RATE_LIMIT_MAX: '3' })
    expect(skipped!.notRun).toBe('needs a cluster')
    expect(plain).toEqual({ command: 'curl -s localhost:3311/probe', output: [], server: {} })
  })

  it('refuse a marker that is not right above a console block', () => {
    expect(() => examplesOf('<!-- example not run: lost -->\n\nsome prose\n```console\n$ true\n```')).toThrow(/not right above/)
  })
})
