import { setTimeout as sleep } from 'node:timers/promises'
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './platform/config.js'
import { asyncStdout, flushLog, loggerOptions } from './platform/logger.js'

function configFromEnvironment (): Config {
  try {
    return loadConfig(process.env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    console.error(error.message)
    process.exit(1)
  }
}

const config = configFromEnvironment()
const pretty = process.stdout.isTTY === true
const destination = pretty ? undefined : asyncStdout()
const app = await buildApp(config, { logger: loggerOptions(config.LOG_LEVEL, pretty, destination) })

// First SIGTERM/SIGINT: readiness turns 503 (for SHUTDOWN_DRAIN_DELAY_MS while still serving), the
// listener closes, in-flight requests finish, the pool closes, exit 0. A second signal, or the
// grace period running out, exits 1 at once.
const delay = config.SHUTDOWN_DRAIN_DELAY_MS + config.SHUTDOWN_GRACE_MS
closeWithGrace({ delay, logger: { error: (message) => app.log.error(message) } }, async ({ signal, err }) => {
  app.drain()
  if (err !== undefined) {
    app.log.error({ err }, 'closing after an unexpected error')
  } else {
    app.log.info({ signal, drainDelayMs: config.SHUTDOWN_DRAIN_DELAY_MS }, 'shutting down: draining')
    await sleep(config.SHUTDOWN_DRAIN_DELAY_MS)
  }
  app.log.info('closing: finishing in-flight requests')
  await app.close()
  app.log.info('closed')
  // close-with-grace exits right after this: the last access lines must be out by then.
  if (destination !== undefined) await flushLog(destination)
})

await app.listen({ port: config.PORT, host: config.HOST })
