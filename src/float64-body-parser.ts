import type { IncomingMessage } from 'node:http'
import { errorCodes, type FastifyRequest } from 'fastify'
import { Float64LengthError } from './errors.js'

const { FST_ERR_CTP_BODY_TOO_LARGE, FST_ERR_CTP_INVALID_CONTENT_LENGTH } = errorCodes

type Done = (error: Error | null, body?: Float64Array<SharedArrayBuffer>) => void

/**
 * Content-type parser for application/octet-stream: raw little-endian float64 values, read into one
 * SharedArrayBuffer that worker threads then read in place (see src/compute/sum-job.ts).
 *
 * Fastify's `parseAs: 'buffer'` would gather the chunks and Buffer.concat them: a second full copy,
 * and under 4 KiB a slice of Node's shared Buffer pool, which must never be handed to another thread.
 * Here, when Content-Length is known (the usual case), the memory is allocated once up front and each
 * socket chunk is copied into place as it arrives; a chunked upload is gathered and copied once at
 * the end. Either way the body is copied exactly once, off the socket.
 *
 * The limits mirror Fastify's own raw-body reader: 413 from Content-Length before reading a byte, or as
 * soon as the bytes received pass the limit; 400 if the body ends short of Content-Length.
 */
export function float64BodyParser (limit: number) {
  return function parseFloat64Body (request: FastifyRequest, payload: IncomingMessage, done: Done): void {
    const header = request.headers['content-length']
    const declared = header === undefined ? undefined : Number(header)
    if (declared !== undefined && !Number.isSafeInteger(declared)) return done(new FST_ERR_CTP_INVALID_CONTENT_LENGTH())
    if (declared !== undefined && declared > limit) return done(new FST_ERR_CTP_BODY_TOO_LARGE())
    // Known to be wrong before a byte is read: refuse now rather than after a large upload.
    if (declared !== undefined && declared % 8 !== 0) return done(new Float64LengthError(declared))

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
      if (received % 8 !== 0) return finish(new Float64LengthError(received))
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
