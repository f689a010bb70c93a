import { randomUUID } from 'node:crypto'
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads'
import { serializerCompiler } from 'fastify-type-provider-zod'
import pino from 'pino'
import { Histogram, Registry } from 'prom-client'
import { sumOfSquaresReply } from '../src/tasks/sum-of-squares.js'
import { compiledOkSerializer } from '../src/http/compiled-serializer.js'
import { formatTable, medianOf } from './measure.js'

/**
 * Pieces of the event loop's work on one sum-of-squares request, each alone in a loop: what a
 * change to one of them can save at most. The load test's CPU accounting says what a request
 * costs in all (docs/performance-vs-go.md).
 */
export async function requestCostsBench (): Promise<string> {
  const reply = { result: '333332833333500000', start: 0, end: 1_000_000, terms: 1_000_000, chunks: 1, elapsedMs: 0.412 }
  const route = { schema: sumOfSquaresReply, method: 'POST', url: '/v1/sum-of-squares', httpStatus: '200' }
  const zodSerializer = serializerCompiler(route)
  const compiled = compiledOkSerializer(route)
  const logger = pino({ level: 'warn' }, { write () {} })
  const histogram = new Histogram({ name: 'h', help: 'h', labelNames: ['method', 'route', 'status_code'], buckets: [0.001, 0.01, 0.1, 1, 10], registers: [new Registry()] })
  const labels = { method: 'POST', route: '/v1/sum-of-squares', status_code: 200 }
  const { port1, port2 } = new MessageChannel()
  // What Piscina posts for a task, and what a worker posts back (its result a BigInt, or a string).
  const taskMessage = { task: { task: 'sum-of-squares', input: { start: 0, end: 1_000_000 } }, taskId: 7, filename: '/app/dist/workers/pool-worker.js', name: 'default', histogramEnabled: 0 }
  const answer = (result: unknown) => ({ taskId: 7, result: { value: result, kernelMs: 0.31 }, error: null, time: null })
  const roundTrip = (message: unknown) => () => { port1.postMessage(message); return receiveMessageOnPort(port2) }

  const rows = [
    await medianOf('200 reply: zod encode + JSON.stringify (the zod type provider)', 1, () => zodSerializer(reply)),
    await medianOf('200 reply: fast-json-stringify, compiled from the same schema', 1, () => compiled(reply)),
    await medianOf('request id: randomUUID()', 1, () => randomUUID()),
    await medianOf('request logger: pino child({ reqId })', 1, () => logger.child({ reqId: 'x' })),
    await medianOf('metrics: prom-client histogram observe with three labels', 1, () => histogram.observe(labels, 0.001)),
    await medianOf('deadline: setTimeout + clearTimeout', 1, () => clearTimeout(setTimeout(() => {}, 30_000))),
    await medianOf('MessagePort round trip: the task message', 1, roundTrip(taskMessage)),
    await medianOf('MessagePort round trip: an answer holding a BigInt', 1, roundTrip(answer(333332833333500000n))),
    await medianOf('MessagePort round trip: an answer holding a string', 1, roundTrip(answer('333332833333500000')))
  ]
  port1.close()
  return formatTable(['one piece of a request', 'median µs'], rows.map((row) => [row.name, (row.medianNs / 1000).toFixed(2)]))
}
