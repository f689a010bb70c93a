import { readFileSync } from 'node:fs'
import { compiledPath } from '../platform/paths.js'

/** The part of the WebAssembly API used here: Node has it all, @types/node declares none of it. */
interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object) => { exports: unknown }
}
const { WebAssembly } = globalThis as unknown as { WebAssembly: WebAssemblyApi }

/** An exported global of a module (`value` reads it). */
export interface WasmGlobal<T> { value: T }

/**
 * A kernel built by `npm run build` from assembly/<name>.ts (AssemblyScript), instantiated
 * synchronously (a few KiB, once per thread); undefined where the engine cannot run it (no
 * WebAssembly SIMD), and the JavaScript kernel stands in.
 */
export function instantiateKernel<Exports> (name: string): Exports | undefined {
  const bytes = readFileSync(kernelPath(name))
  if (!WebAssembly.validate(bytes)) return undefined
  return new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as Exports
}

/** Where the build writes assembly/<name>.ts's module. */
export function kernelPath (name: string): string {
  return compiledPath(`assembly/${name}.wasm`)
}
