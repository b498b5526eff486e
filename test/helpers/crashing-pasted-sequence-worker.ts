/**
 * The workbench worker (worker.ts) with one fault added, for tests of a crash: a pasted-sequence worker thread
 * that is asked for a sequence of `CRASH_RESIDUES` residues throws an uncaught exception (the thread dies, as
 * with a bug) before the real handler sees the request. Every other task and request runs as in the app.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads'

export const CRASH_RESIDUES = 4321

if ((workerData as { kind?: string } | undefined)?.kind === 'pasted-sequences') {
  parentPort!.on('message', (msg: { type: string; inputs?: { tokens: Int32Array }[] }) => {
    if (msg.type === 'extract' && msg.inputs?.some(i => i.tokens.length === CRASH_RESIDUES + 2))
      throw new Error('a fault injected by the test: the pasted-sequence worker crashes')
  })
}
// (the test imports CRASH_RESIDUES from here in the main thread: the worker runs only in a worker thread)
if (!isMainThread) void import('../../src/main/workbench/worker')
