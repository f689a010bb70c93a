import { startBalancer, REPLICA_NAMES, type Balancer } from './haproxy.js'
import { freePort, startServer, type ServerProcess } from './server-process.js'

export interface ReplicaSet {
  balancer: Balancer
  /** The process now serving each slot (replica1, replica2, replica3), in order. */
  replicas: ServerProcess[]
  ports: number[]
  /** Starts a new process in slot `i`, on that slot's port, with the set's environment; resolves once it is ready. */
  replace(i: number): Promise<ServerProcess>
  stop(): Promise<void>
}

/** Three replicas of the real server on loopback ports, behind HAProxy with deploy/haproxy/haproxy.cfg. */
export async function startReplicaSet (env: Record<string, string>): Promise<ReplicaSet> {
  const ports: number[] = []
  while (ports.length < REPLICA_NAMES.length) ports.push(await freePort())
  const start = (port: number) => startServer({ ...env, PORT: String(port) })
  const replicas = await Promise.all(ports.map(start))
  let balancer: Balancer
  try {
    balancer = await startBalancer(ports.map((port) => `127.0.0.1:${port}`))
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.stop('SIGKILL')))
    throw error
  }
  return {
    balancer,
    replicas,
    ports,
    async replace (i) {
      replicas[i] = await start(ports[i]!)
      return replicas[i]!
    },
    async stop () {
      await balancer.stop()
      await Promise.all(replicas.map((replica) => replica.stop('SIGKILL')))
    }
  }
}
