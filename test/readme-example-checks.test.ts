import { describe, expect, it } from 'vitest'
import { differences, examplesOf } from './support/readme-examples.js'

// The checker of test/readme-examples.test.ts, on examples that drifted: each drift is reported.
describe('README example checks', () => {
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
    expect(sum).toEqual({ command: 'curl -s localhost:3311/v1/sum -d x', output: ['{"sum":0.6,"count":3,"mode":"exact","chunks":1,"elapsedMs":3.919}'] })
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

describe('README example checks on a job', () => {
  const [job] = examplesOf('```console\n$ curl -s localhost:3311/v1/jobs/1\n{"id":"a","status":"running","startedAt":"t","progress":{"done":1}}\n```')

  it('lets a job be further along than the README shows it, but not lose its other fields', () => {
    expect(differences(job!, ['{"id":"b","status":"succeeded","startedAt":"u","finishedAt":"v","result":"42","progress":{"done":9}}'])).toEqual([])
    expect(differences(job!, ['{"id":"b","status":"queued","progress":{"done":0}}'])).toEqual([])
    expect(differences(job!, ['{"id":"b","status":"queued"}'])).toHaveLength(1)
  })
})
