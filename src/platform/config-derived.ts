// Settings that follow from several variables at once, for the schema in config.ts.

import { largestReservedBody } from '../uploads/upload-memory.js'

/** JOB_MAX_INPUT_BYTES, or its default: 8 MiB, within BODY_LIMIT_BYTES. */
export function jobMaxInputBytes (config: { JOB_MAX_INPUT_BYTES?: number | undefined, BODY_LIMIT_BYTES: number }): number {
  return config.JOB_MAX_INPUT_BYTES ?? Math.min(8 * 1024 * 1024, config.BODY_LIMIT_BYTES)
}

/** UPLOAD_MEMORY_PER_CLIENT_BYTES, or its default: a quarter of the budget, at least the largest body's reservation, at most the budget. */
export function uploadShareOf (config: { UPLOAD_MEMORY_PER_CLIENT_BYTES?: number | undefined, UPLOAD_MEMORY_MAX_BYTES: number, BODY_LIMIT_BYTES: number, JSON_BODY_LIMIT_BYTES: number }): number {
  return config.UPLOAD_MEMORY_PER_CLIENT_BYTES ?? Math.min(config.UPLOAD_MEMORY_MAX_BYTES,
    Math.max(Math.floor(config.UPLOAD_MEMORY_MAX_BYTES / 4), largestReservedBody(config.BODY_LIMIT_BYTES, config.JSON_BODY_LIMIT_BYTES)))
}

/** Where traces go: opt-in, by the standard variables (an OTLP endpoint alone means OTLP); none when empty. */
export function traceExportersOf (env: { OTEL_SDK_DISABLED: boolean, OTEL_TRACES_EXPORTER?: Array<'otlp' | 'console' | 'none'>, OTEL_EXPORTER_OTLP_ENDPOINT?: string, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string }): Array<'otlp' | 'console'> {
  const named = env.OTEL_TRACES_EXPORTER
  if (env.OTEL_SDK_DISABLED || named?.includes('none') === true) return []
  if (named !== undefined) return [...new Set(named.filter((name) => name !== 'none'))]
  return env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined ? ['otlp'] : []
}
