/**
 * The experiment job as it runs in the worker: engine/experiment/experiment-job.ts runs the design (writing
 * into the project's store) with progress and cancel.
 */
import { runExperimentFiles } from '../engine/experiment/experiment-job'
import type { ExperimentTask, TaskContext } from './worker-protocol'

/** The worker side of an 'experiment' job. */
export async function runExperimentTask(task: ExperimentTask, ctx: TaskContext): Promise<{ experimentId: string }> {
  const { id } = await runExperimentFiles(
    {
      modelDir: task.modelDir,
      saeDir: task.saeDir,
      layer: task.layer,
      cacheRoot: task.modelCacheRoot,
      runtime: { device: task.device, deviceId: 0, threads: task.threads },
      db: task.db,
      names: { model: task.modelName, sae: task.saeName }
    },
    task.design,
    {
      signal: ctx.signal,
      onProgress: p =>
        ctx.progress({
          phase: p.phase,
          done: p.done,
          total: p.total,
          unit: 'sequences',
          rate: p.rate,
          etaSeconds: p.etaSeconds,
          detail: p.detail
        })
    }
  )
  return { experimentId: id }
}
