import { dotChunk } from '../compute/dot.js'
import { sumOfSquaresChunk } from '../compute/sum-of-squares-chunk.js'
import { statsChunk } from '../compute/stats.js'
import { sumChunk } from '../compute/sum.js'
import type { AnyTask, TaskDeclaration } from './task.js'

/**
 * Every compute task, one line each: its name, the kernel a worker runs for one chunk, and its
 * declaration (src/tasks/<name>.ts). Workers import this file for the kernels alone: declarations
 * are loaded on the main thread only, so a new thread never pays for zod.
 */
export const registry = {
  'sum-of-squares': task(sumOfSquaresChunk, () => import('./sum-of-squares.js')),
  sum: task(sumChunk, () => import('./sum.js')),
  dot: task(dotChunk, () => import('./dot.js')),
  stats: task(statsChunk, () => import('./stats.js'))
}

/** The kernels by task name: the workers' task table (workers/tasks.ts). */
export const kernels = Object.fromEntries(Object.entries(registry).map(([name, entry]) => [name, entry.kernel])) as
  { [N in keyof typeof registry]: typeof registry[N]['kernel'] }

/** Every declaration, in registry order, each checked to bear its registry line's name. */
export async function loadTasks (): Promise<AnyTask[]> {
  return Promise.all(Object.entries(registry).map(async ([name, entry]) => {
    const { default: declaration } = await entry.declaration()
    if (declaration.name !== name) throw new Error(`the registry's "${name}" line loads the declaration of "${declaration.name}"`)
    return declaration as AnyTask
  }))
}

type DeclarationFor<C, P> = TaskDeclaration<any, any, any, C, P, any, any>

/** A registry line: the declaration's chunks and partials must be the kernel's input and output. */
function task<C, P> (kernel: (chunk: C) => P, declaration: () => Promise<{ default: DeclarationFor<NoInfer<C>, NoInfer<P>> }>) {
  return { kernel, declaration }
}
