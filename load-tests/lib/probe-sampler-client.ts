import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { ProbeSample, SamplerMessage } from './probe-sample.js'

const samplerEntry = fileURLToPath(new URL('./probe-sampler.js', import.meta.url))

/** Every sampler child still running, for cleanup on Ctrl-C or failure. */
export const runningSamplers = new Set<ChildProcess>()

export interface Sampler {
  pid: number
  /** Resolves after the first probe has come back. */
  ready: Promise<void>
  /** Stops probing and returns every sample; the child exits. */
  stop(): Promise<ProbeSample[]>
}

/** Starts the probe sampler (probe-sampler.ts) in its own process; it dies on its own after `lifetimeMs`. */
export function startSampler (url: string, intervalMs: number, lifetimeMs: number): Sampler {
  const child = fork(samplerEntry, [url, String(intervalMs), String(Math.ceil(lifetimeMs))], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  runningSamplers.add(child)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    runningSamplers.delete(child)
    resolve(code)
  }))
  const message = (type: SamplerMessage['type']) => new Promise<SamplerMessage>((resolve, reject) => {
    const onMessage = (received: SamplerMessage) => {
      if (received.type !== type) return
      child.off('message', onMessage)
      resolve(received)
    }
    child.on('message', onMessage)
    exited.then((code) => reject(new Error(`probe sampler exited (code ${code}) before sending "${type}"`)), () => {})
  })

  const ready = message('ready').then(() => {})
  ready.catch(() => {}) // observed by whoever awaits it; the exit is reported by stop() too
  return {
    pid: child.pid!,
    ready,
    async stop () {
      const samples = message('samples')
      child.send({ type: 'stop' } satisfies SamplerMessage)
      const received = await samples
      await exited
      return received.type === 'samples' ? received.samples : []
    }
  }
}
