import type { Redis } from 'ioredis'
import type { JobRecord } from './job-document.js'
import type { JobTask, JobTasks } from './job-tasks.js'
import { taskOf } from './jobs.js'
import { keysOf } from './redis-records.js'
import { readBinaryInput } from './redis-binary-input.js'

/** What a replica needs to run any chunk of a job: its task, its stored input, and the kernels' inputs cut from it. */
export interface StoredJob extends Pick<JobRecord, 'input' | 'total' | 'chunks'> {
  task: JobTask
  /** The task's split of the input into the job's chunks, in order. */
  inputs: unknown[]
}

/** Jobs whose split a replica keeps: about as many as it runs chunks of at once. */
const KEPT = 16

/**
 * A job's input lives once, in its hash (with the job's TTL; a binary one in a key beside it), not
 * in each of its chunks in the queue: a replica reads it at its first chunk of the job and splits it once, with the task's own
 * split, for that chunk and the next ones it takes.
 */
export class StoredJobs {
  readonly #jobs = new Map<string, Promise<StoredJob | undefined>>()

  constructor (private readonly commands: Redis, private readonly tasks: JobTasks) {}

  /** The job, or undefined once its hash is gone (expired, or deleted). */
  async of (id: string): Promise<StoredJob | undefined> {
    let job = this.#jobs.get(id)
    if (job === undefined) {
      job = this.#read(id)
      this.#jobs.set(id, job)
      job.catch(() => this.#jobs.delete(id))
      if (this.#jobs.size > KEPT) this.#jobs.delete(this.#jobs.keys().next().value!)
    }
    return await job
  }

  forget (id: string): void {
    this.#jobs.delete(id)
  }

  async #read (id: string): Promise<StoredJob | undefined> {
    const [name, stored, total, chunks, binary] = await this.commands.hmget(keysOf(id).job, 'task', 'input', 'total', 'chunks', 'binary')
    if (name == null || stored == null) return undefined
    const task = taskOf(this.tasks, name)
    // A binary input is the values themselves, as the route's parser gives them to the task.
    const input: unknown = binary === '1' ? await readBinaryInput(this.commands, keysOf(id).input) : JSON.parse(stored)
    if (input === undefined) return undefined
    return { task, input, total: Number(total), chunks: Number(chunks), inputs: task.split(input, Number(chunks)) }
  }
}
