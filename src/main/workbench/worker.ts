/**
 * The job worker (a node:worker_threads thread, one per job): runs CPU-heavy work away from the thread that
 * serves the UI, posts progress, and stops when asked to cancel (see worker-protocol.ts). The same entry runs
 * the resident pasted-sequence worker (a `PastedSequenceTask`: not a job; it serves requests until closed).
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { JobProgress } from '../../shared/api'
import { runIndexTask } from './index-task'
import { runSteerTask } from './steer-task'
import { runExperimentTask } from './experiment-task'
import { servePastedSequences } from './pasted-sequence-task'
import { runSaeFitTask } from './sae-fit-task'
import type { MainToWorker, PastedSequenceTask, WorkerTask, WorkerToMain } from './worker-protocol'

const maybePort = parentPort
if (!maybePort) throw new Error('worker.ts must run in a worker thread')
const port = maybePort

const abort = new AbortController()
port.on('message', (msg: MainToWorker) => {
  if (msg.type === 'cancel') abort.abort()
})

function post(msg: WorkerToMain): void {
  port.postMessage(msg)
}

async function run(task: WorkerTask): Promise<unknown> {
  const progress = (p: JobProgress): void => post({ type: 'progress', progress: p })
  switch (task.kind) {
    case 'index':
      return runIndexTask(task, {
        signal: abort.signal,
        progress,
        badRecord: report => post({ type: 'badRecord', report })
      })
    case 'steer':
      return runSteerTask(task, { signal: abort.signal, progress })
    case 'experiment':
      return runExperimentTask(task, { signal: abort.signal, progress })
    case 'sae-fit':
      return runSaeFitTask(task, { signal: abort.signal, progress })
  }
}

const task = workerData as WorkerTask | PastedSequenceTask
if (task.kind === 'pasted-sequences') {
  void servePastedSequences(task, port).finally(() => port.close())
} else {
  runJob(task)
}

function runJob(task: WorkerTask): void {
  run(task).then(
    result => {
      post(abort.signal.aborted ? { type: 'cancelled' } : { type: 'done', result: result ?? null })
      port.close()
    },
    (e: Error) => {
      post(abort.signal.aborted ? { type: 'cancelled' } : { type: 'failed', error: e.message })
      port.close()
    }
  )
}
