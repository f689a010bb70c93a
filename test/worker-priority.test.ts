import { getPriority } from 'node:os'
import { readdir, readFile } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { buildTestApp, json } from './helper.js'

/** Nice value of every thread of this process, from /proc (Linux). */
async function threadNiceValues (): Promise<number[]> {
  const tids = await readdir('/proc/self/task')
  const stats = await Promise.all(tids.map((tid) => readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => '')))
  // Field 19 is the nice value; fields are counted after the parenthesised command name, which may hold spaces.
  return stats.filter(Boolean).map((stat) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]))
}

describe.runIf(process.platform === 'linux')('worker thread priority', () => {
  let app: FastifyInstance | undefined
  afterEach(async () => { await app?.close() })

  const work = async (target: FastifyInstance) => {
    const responses = await Promise.all([1, 2, 3, 4].map(() => target.inject({ method: 'POST', url: '/v1/sum-of-squares', headers: json, payload: { end: 100_000, chunks: 1 } })))
    for (const response of responses) expect(response.statusCode).toBe(200)
  }

  it('lowers every pool thread to POOL_WORKER_NICE and leaves the event loop alone', async () => {
    const before = await threadNiceValues()
    app = await buildTestApp({ POOL_THREADS: '2', POOL_WORKER_NICE: '7' })
    await work(app)
    const after = await threadNiceValues()
    expect(after.filter((nice) => nice === 7).length - before.filter((nice) => nice === 7).length).toBe(2)
    expect(getPriority()).toBe(0) // this thread: the event loop
  })

  it('keeps the default priority when POOL_WORKER_NICE is 0', async () => {
    app = await buildTestApp({ POOL_THREADS: '2', POOL_WORKER_NICE: '0' })
    await work(app)
    expect((await threadNiceValues()).every((nice) => nice === 0)).toBe(true)
  })
})
