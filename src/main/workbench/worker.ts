/**
 * The job worker (a node:worker_threads thread, one per job): runs CPU-heavy work away from the thread that
 * serves the UI, posts progress, and stops when asked to cancel (see worker-protocol.ts).
 */
import { parentPort, workerData } from 'node:worker_threads'
import type { JobProgress } from '../../shared/api'
import { runIndexTask } from './index-task'
import { runSteerTask } from './steer-task'
import { runExperimentTask } from './experiment-task'
import type { MainToWorker, WorkerTask, WorkerToMain } from './worker-protocol'

const port = parentPort
if (!port) throw new Error('worker.ts must run in a worker thread')

const abort = new AbortController()
port.on('message', (msg: MainToWorker) => {
  if (msg.type === 'cancel') abort.abort()
})

function post(msg: WorkerToMain): void {
  port!.postMessage(msg)
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
  }
}

run(workerData as WorkerTask).then(
  result => {
    post(abort.signal.aborted ? { type: 'cancelled' } : { type: 'done', result: result ?? null })
    port.close()
  },
  (e: Error) => {
    post(abort.signal.aborted ? { type: 'cancelled' } : { type: 'failed', error: e.message })
    port.close()
  }
)
