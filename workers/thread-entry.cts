import { workerData } from 'node:worker_threads'
import { pathToFileURL } from 'node:url'

/**
 * The file Piscina loads in every pool thread: CommonJS, so Piscina's require() of it never takes
 * Node's require(esm) path, where a thread terminated mid-load aborts the whole process (Node 20.19
 * to 24; docs/how-it-works.md). The real entry, an ES module named in workerData, comes by import(),
 * and Piscina waits for the promised handler before it calls the thread ready.
 */
const { entry } = workerData as { entry: string }

export = import(pathToFileURL(entry).href).then((module: { default: unknown }) => module.default)
