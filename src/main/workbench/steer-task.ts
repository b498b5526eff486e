/**
 * The steering job as it runs in the worker: open the model with the SAE hooked in at the project's layer, run
 * the generation and scoring under the request's clamps with progress and cancel, and write the run's JSON.
 */
import { writeFileAtomic } from '../engine/fs/files'
import { toJson } from '../engine/steer/run-export'
import { openSteeredModel } from '../engine/steer/open-steered-model'
import { runSteering } from '../engine/steer/steering-run'
import type { SteerTask, TaskContext } from './worker-protocol'

/** The worker side of a 'steer' job. */
export async function runSteerTask(task: SteerTask, ctx: TaskContext): Promise<{ runId: string }> {
  const steered = await openSteeredModel({
    modelDir: task.modelDir,
    cacheRoot: task.modelCacheRoot,
    runtime: { device: task.device, deviceId: 0, threads: task.threads },
    saeDir: task.saeDir,
    sae: { layer: task.layer, libraryK: task.saeK },
    layer: task.layer
  })
  try {
    const run = await runSteering({ steered, maxActivation: f => task.maxActivations[String(f)] }, task.request, {
      signal: ctx.signal,
      runId: task.runId,
      onProgress: p =>
        ctx.progress({
          phase: p.phase === 'generating' ? 'generating sequences' : 'scoring',
          done: p.done,
          total: p.total,
          unit: p.phase === 'generating' ? 'sequence passes' : 'forwards'
        })
    })
    // The library's names, not the shape's: a demo model in the ESM2-8M shape must not be recorded as esm2_t6_8M_UR50D.
    run.provenance = { ...run.provenance, model: task.modelName, sae: task.saeName }
    writeFileAtomic(task.outFile, toJson(run))
    return { runId: task.runId }
  } finally {
    await steered.model.close()
  }
}
