import { performance } from 'node:perf_hooks'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { ShuttingDownError } from '../errors.js'
import { createJsonParseQueue, type JsonParseQueue } from '../uploads/json-parse-queue.js'
import { createUploadBudget, type UploadBudget } from '../uploads/upload-budget.js'
import type { UploadMeter } from '../uploads/upload-meter.js'

declare module 'fastify' {
  interface FastifyInstance {
    uploads: UploadBudget & {
      /** Watches an upload until it ends: its rate every second, and shutdown. */
      track(meter: UploadMeter): void
      /** JSON bodies read and waiting for their turn on the event loop. */
      jsonParses: JsonParseQueue
    }
  }
}

export interface UploadsOptions {
  maxBytes: number
  largestBody: number
  perClientBytes: number
  jsonParseMaxBytes: number
  /** Largest JSON body: a client may always have one waiting to be parsed. */
  jsonBodyLimit: number
}

/** How often uploads in flight are checked against the minimum rate. */
const RATE_CHECK_MS = 500

/**
 * The memory budget of request bodies in flight, and every upload still arriving. On close (after
 * the drain delay), an upload still incomplete gets 503 and its connection closed, so a stalled
 * client cannot hold the process open until it is killed.
 */
async function uploadsPlugin (app: FastifyInstance, options: UploadsOptions) {
  const { maxBytes, largestBody, perClientBytes, jsonParseMaxBytes, jsonBodyLimit } = options
  const budget = createUploadBudget(maxBytes, largestBody, perClientBytes)
  // A client's share of the JSON waiting to be parsed: a quarter, but always room for one body.
  const jsonParses = createJsonParseQueue(jsonParseMaxBytes, Math.min(jsonParseMaxBytes, Math.max(Math.floor(jsonParseMaxBytes / 4), jsonBodyLimit)))
  const arriving = new Set<UploadMeter>()
  let lastCheck = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    const stalled = now - lastCheck > 2 * RATE_CHECK_MS
    lastCheck = now
    // A late check means the event loop was blocked (inline work, a long GC): bytes may be waiting
    // unread in the socket, so every window starts again rather than blame the client.
    for (const meter of arriving) {
      if (stalled) meter.restartWindow(now)
      else meter.checkRate(now)
    }
  }, RATE_CHECK_MS)
  timer.unref()

  app.decorate('uploads', {
    ...budget,
    jsonParses,
    track (meter: UploadMeter) {
      arriving.add(meter)
      const forget = () => { arriving.delete(meter) }
      meter.once('end', forget)
      meter.once('close', forget)
    }
  })
  app.addHook('preClose', async () => {
    for (const meter of arriving) meter.cut(new ShuttingDownError())
  })
  app.addHook('onClose', async () => { clearInterval(timer) })
}

export default fp(uploadsPlugin, { name: 'uploads' })
