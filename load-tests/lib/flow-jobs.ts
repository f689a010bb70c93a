import { randomUUID } from 'node:crypto'
import { deserialize, serialize } from 'node:v8'
import { FlowProducer, Queue, QueueEvents, WaitingChildrenError, Worker, type Job } from 'bullmq'
import { closedForm } from '../../test/support/closed-form.js'

/**
 * The other design of issue 19, item 2, built to be measured beside the service's (job-designs.ts):
 * a job is a BullMQ parent whose children are its chunks. Children enter in windows of WINDOW, the
 * "waiting-children" step pattern of BullMQ's docs: the flow adds the first window; each time a
 * window has finished, the parent runs, adds the next, and waits for its children again. A child
 * returns its partial (V8's serialization, base64, as BullMQ stores JSON), which BullMQ records in
 * the parent's `processed` hash; the parent's last run merges them all. No Lua of our own.
 * It does sum-of-squares only, by the closed form (the kernel does not touch Redis), and has no
 * cancel, admission or list: what it costs Redis is the question, not a second job API.
 */

const PARENTS = 'compute-flow-jobs'
const CHILDREN = 'compute-flow-chunks'
/** As CHUNKS_AHEAD in src/jobs/chunk-window.ts: chunks of one job in the queue at once. */
const WINDOW = 64

interface ParentData {
  start: number
  end: number
  chunkTerms: number
  chunks: number
  /** The first chunk not added yet. */
  next: number
}

interface ChildData {
  start: number
  end: number
}

export interface FlowJobs {
  submit(start: number, end: number): Promise<string>
  /** The job's sum once it has succeeded. */
  finished(id: string): Promise<bigint>
  close(): Promise<void>
}

export async function startFlowJobs ({ port, concurrency, chunkTerms }: { port: number, concurrency: number, chunkTerms: number }): Promise<FlowJobs> {
  const connection = { host: '127.0.0.1', port }
  const flows = new FlowProducer({ connection })
  const children = new Queue<ChildData>(CHILDREN, { connection })
  const parents = new Queue<ParentData>(PARENTS, { connection })
  const events = new QueueEvents(PARENTS, { connection })
  await events.waitUntilReady()

  const chunkOf = (data: ParentData, index: number): ChildData => {
    const start = data.start + index * data.chunkTerms
    return { start, end: Math.min(data.end, start + data.chunkTerms) }
  }
  const childOpts = (id: string, index: number) => ({
    jobId: `${id}.${index}`,
    priority: index + 1,
    attempts: 3,
    removeOnComplete: true,
    removeOnFail: true
  })

  const childWorker = new Worker<ChildData, string>(CHILDREN, async (job) => {
    return serialize(closedForm(job.data.start, job.data.end)).toString('base64')
  }, { connection, concurrency })

  const parentWorker = new Worker<ParentData, string>(PARENTS, async (job: Job<ParentData>, token?: string) => {
    for (;;) {
      const data = job.data
      if (data.next < data.chunks) {
        const next = Math.min(data.chunks, data.next + WINDOW)
        const window = Array.from({ length: next - data.next }, (_, k) => data.next + k)
        await children.addBulk(window.map((index) => ({
          name: 'sum-of-squares',
          data: chunkOf(data, index),
          opts: { ...childOpts(job.id!, index), parent: { id: job.id!, queue: job.queueQualifiedName } }
        })))
        await job.updateData({ ...data, next })
        await job.updateProgress(Math.round(100 * data.next / data.chunks))
      }
      if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError()
      if (job.data.next >= job.data.chunks) break
    }
    const values = await job.getChildrenValues<string>()
    let sum = 0n
    for (const value of Object.values(values)) sum += deserialize(Buffer.from(value, 'base64')) as bigint
    return sum.toString()
  }, { connection, concurrency: 1 })

  return {
    async submit (start, end) {
      const id = randomUUID()
      const chunks = Math.ceil((end - start) / chunkTerms)
      const data: ParentData = { start, end, chunkTerms, chunks, next: Math.min(WINDOW, chunks) }
      await flows.add({
        name: 'sum-of-squares',
        queueName: PARENTS,
        data,
        opts: { jobId: id },
        children: Array.from({ length: data.next }, (_, index) => ({
          name: 'sum-of-squares', queueName: CHILDREN, data: chunkOf(data, index), opts: childOpts(id, index)
        }))
      })
      return id
    },
    async finished (id) {
      const job = await parents.getJob(id)
      return BigInt(await job!.waitUntilFinished(events) as string)
    },
    async close () {
      await Promise.all([childWorker.close(), parentWorker.close()])
      await Promise.all([flows.close(), children.close(), parents.close(), events.close()])
    }
  }
}
