import type { IncomingMessage } from 'node:http'
import { errorCodes, type FastifyRequest } from 'fastify'
import { BinaryLengthError } from '../errors.js'

const { FST_ERR_CTP_BODY_TOO_LARGE, FST_ERR_CTP_INVALID_CONTENT_LENGTH } = errorCodes

type Done = (error: Error | null, body?: Float64Array<SharedArrayBuffer>) => void

export interface Float64Layout {
  /** The body's length must be a multiple of this: 8 for a list of values, 16 for two lists of equal length. */
  multipleOf: number
  /** What the body holds, for the 400 when its length is wrong. */
  description: string
}

/**
 * Content-type parser for application/octet-stream: raw little-endian float64 values, read into one
 * SharedArrayBuffer that worker threads then read in place. The body is copied exactly once, off
 * the socket: into memory allocated up front from Content-Length, or gathered and copied once at
 * the end of a chunked upload. (`parseAs: 'buffer'` would copy twice, and a small Buffer is a slice
 * of Node's shared pool, which must never reach another thread.)
 * Limits mirror Fastify's own reader: 413 from Content-Length before a byte is read, or once the
 * bytes pass the route's body limit; 400 if the body ends short of Content-Length.
 */
export function float64BodyParser ({ multipleOf, description }: Float64Layout) {
  return function parseFloat64Body (request: FastifyRequest, payload: IncomingMessage, done: Done): void {
    const limit = request.routeOptions.bodyLimit ?? 1024 * 1024
    const header = request.headers['content-length']
    const declared = header === undefined ? undefined : Number(header)
    if (declared !== undefined && !Number.isSafeInteger(declared)) return done(new FST_ERR_CTP_INVALID_CONTENT_LENGTH())
    if (declared !== undefined && declared > limit) return done(new FST_ERR_CTP_BODY_TOO_LARGE())
    // Known to be wrong before a byte is read: refuse now rather than after a large upload.
    if (declared !== undefined && declared % multipleOf !== 0) return done(new BinaryLengthError(description, declared, multipleOf))

    const preallocated = declared === undefined ? undefined : new Uint8Array(new SharedArrayBuffer(declared))
    const gathered: Buffer[] = []
    let received = 0

    const finish = (error: Error | null, body?: Float64Array<SharedArrayBuffer>) => {
      payload.removeListener('data', onData)
      payload.removeListener('end', onEnd)
      payload.removeListener('error', onError)
      // Whatever is left of a refused body is read and dropped; Fastify closes the connection after the reply.
      if (error !== null) payload.resume()
      done(error, body)
    }

    function onData (chunk: Buffer) {
      if (received + chunk.length > (preallocated?.length ?? limit)) {
        // Past the limit, or past a Content-Length Node's parser should have enforced already.
        return finish(preallocated === undefined ? new FST_ERR_CTP_BODY_TOO_LARGE() : new FST_ERR_CTP_INVALID_CONTENT_LENGTH())
      }
      if (preallocated !== undefined) preallocated.set(chunk, received)
      else gathered.push(chunk)
      received += chunk.length
    }

    function onEnd () {
      if (preallocated !== undefined) {
        if (received !== preallocated.length) return finish(new FST_ERR_CTP_INVALID_CONTENT_LENGTH())
        return finish(null, new Float64Array(preallocated.buffer))
      }
      if (received % multipleOf !== 0) return finish(new BinaryLengthError(description, received, multipleOf))
      const bytes = new Uint8Array(new SharedArrayBuffer(received))
      let offset = 0
      for (const chunk of gathered) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      finish(null, new Float64Array(bytes.buffer))
    }

    function onError (error: Error & { statusCode?: number }) {
      // A client that hangs up mid-upload: nobody will read the reply, but Fastify still logs it.
      error.statusCode ??= 400
      finish(error)
    }

    payload.on('data', onData)
    payload.on('end', onEnd)
    payload.on('error', onError)
  }
}
