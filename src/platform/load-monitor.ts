import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks'

/** Sampling interval of the event-loop delay histograms (Node's default). */
const RESOLUTION_MS = 10

export interface LoadSnapshot {
  /** How much recent history the figures cover. */
  windowMs: number
  eventLoop: {
    delayMs: { p50: number, p99: number, max: number }
    utilization: number
  }
  /** Share of the pool's thread time spent in completed tasks' kernels over the window, 0..1. */
  poolUtilization: number
}

export interface PoolLoad {
  threads: number
  busyMs: number
}

interface Window {
  startedAt: number
  delay: IntervalHistogram
  elu: EventLoopUtilization
  busyMs: number
}

/**
 * Event-loop delay and utilization, and pool utilization, over the last few seconds.
 *
 * A `monitorEventLoopDelay` histogram can be neither merged nor windowed, so two run side by side
 * and are reset in turn every `windowMs / 2`: the older one always covers between half a window
 * and a whole one of recent history, and that is the one read.
 * Pool utilization comes from the kernel time the tasks report, not from the worker threads' own
 * event-loop utilization: Piscina parks idle workers in Atomics.wait, which counts as busy there.
 */
export function createLoadMonitor (poolLoad: () => PoolLoad, windowMs = 5000) {
  const open = (): Window => {
    const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
    delay.enable()
    return { startedAt: performance.now(), delay, elu: performance.eventLoopUtilization(), busyMs: poolLoad().busyMs }
  }
  const reset = (window: Window) => {
    window.delay.reset()
    window.startedAt = performance.now()
    window.elu = performance.eventLoopUtilization()
    window.busyMs = poolLoad().busyMs
  }
  const windows = [open(), open()] as const
  let older = 0
  const timer = setInterval(() => {
    reset(windows[older]!)
    older = 1 - older
  }, windowMs / 2)
  timer.unref()

  // The histogram records the whole interval between timer wake-ups, which includes the resolution itself.
  const delayMs = (ns: number) => round(Math.max(0, ns / 1e6 - RESOLUTION_MS))

  return {
    snapshot (): LoadSnapshot {
      const window = windows[older]!
      const elapsed = performance.now() - window.startedAt
      const { threads, busyMs } = poolLoad()
      const empty = window.delay.count === 0
      return {
        windowMs: Math.round(elapsed),
        eventLoop: {
          delayMs: {
            p50: empty ? 0 : delayMs(window.delay.percentile(50)),
            p99: empty ? 0 : delayMs(window.delay.percentile(99)),
            max: empty ? 0 : delayMs(window.delay.max)
          },
          utilization: round(performance.eventLoopUtilization(window.elu).utilization)
        },
        poolUtilization: threads === 0 ? 0 : round(Math.min(1, (busyMs - window.busyMs) / (elapsed * threads)))
      }
    },
    close () {
      clearInterval(timer)
      for (const window of windows) window.delay.disable()
    }
  }
}

function round (value: number): number {
  return Math.round(value * 1000) / 1000
}

export type LoadMonitor = ReturnType<typeof createLoadMonitor>
