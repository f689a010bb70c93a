import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { FastifyInstance } from 'fastify'
import type { Jobs } from '../jobs/jobs.js'

/** Where bull-board answers, on the metrics listener only. */
export const QUEUE_BOARD_PATH = '/admin/queues'

/**
 * bull-board over the job back end's BullMQ queues, registered on the metrics listener (never the
 * public one, whose callers are clients, not operators).
 *
 * Read-only: a chunk is a part of a job whose record the service keeps beside the queue, so removing,
 * emptying, cleaning or editing chunks from the board would leave jobs running forever or merge the
 * wrong partials, and pausing would stop every replica. bull-board refuses those calls with 405;
 * jobs are cancelled through POST /v1/jobs/{id}/cancel.
 */
export async function registerQueueBoard (listener: FastifyInstance, queues: NonNullable<Jobs['queues']>): Promise<void> {
  const serverAdapter = new FastifyAdapter().setBasePath(QUEUE_BOARD_PATH)
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'compute-service' } }
  })
  await listener.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH })
}
