import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedForm } from './support/closed-form.js'
import { JOB_MODES, jobApp, LONG_JOB, type JobApp } from './support/job-app.js'

describe.each(JOB_MODES)('cancel apart from delete (%s)', (mode) => {
  let jobs: JobApp
  beforeAll(async () => { jobs = await jobApp(mode, { JOB_CHUNK_TERMS: '1000000000' }) }, 30_000)
  afterAll(async () => { await jobs?.close() })

  it('cancels an active job on POST .../cancel, answers the same document when cancelled again, and keeps it readable', async () => {
    const { body: job } = await jobs.submit(LONG_JOB)
    const cancelled = await jobs.cancel(job.id)
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toMatchObject({ id: job.id, status: 'cancelled', finishedAt: expect.any(String) })
    const again = await jobs.cancel(job.id)
    expect(again.status).toBe(200)
    expect(again.body).toEqual(cancelled.body)
    expect((await jobs.get(job.id)).body).toMatchObject({ status: 'cancelled', finishedAt: cancelled.body.finishedAt })
  })

  it('answers a finished job\'s cancel with the job as it finished: the result stays', async () => {
    const { body: job } = await jobs.submit({ task: 'sum-of-squares', input: { start: 0, end: 1000 } })
    const done = await jobs.finished(job.id)
    expect(done.status).toBe('succeeded')
    const cancelled = await jobs.cancel(job.id)
    expect(cancelled.status).toBe(200)
    expect(cancelled.body).toMatchObject({ status: 'succeeded', result: closedForm(0, 1000).toString() })
    expect((await jobs.get(job.id)).body).toEqual(done)
  })

  it('answers DELETE of an active job with 409 pointing to cancel, and leaves the job running', async () => {
    const { body: job } = await jobs.submit(LONG_JOB)
    const refused = await jobs.remove(job.id)
    expect(refused.status).toBe(409)
    expect(refused.body).toMatchObject({ statusCode: 409, error: 'Conflict', message: expect.stringContaining(`POST /v1/jobs/${job.id}/cancel`) })
    expect((await jobs.get(job.id)).body.status).toMatch(/^(queued|running)$/)
    await jobs.cancel(job.id)
  })

  it('removes a finished job on DELETE: 404 from then on, for GET, cancel and DELETE', async () => {
    const { body: job } = await jobs.submit(LONG_JOB)
    await jobs.cancel(job.id)
    const removed = await jobs.remove(job.id)
    expect(removed.status).toBe(200)
    expect(removed.body).toMatchObject({ id: job.id, status: 'cancelled' })
    expect((await jobs.get(job.id)).status).toBe(404)
    expect((await jobs.cancel(job.id)).status).toBe(404)
    expect((await jobs.remove(job.id)).status).toBe(404)
  })
})
