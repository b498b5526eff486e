/**
 * The steering job as it runs in the worker: open the model with the SAE hooked in at the project's layer, run
 * the generation and scoring under the request's clamps with progress and cancel, and write the run's JSON.
 */
import { importEsm2 } from '../engine/esm/esm2-import'
import { Esm2Model } from '../engine/esm/esm2-model'
import { writeFileAtomic } from '../engine/fs/files'
import type { RuntimeOptions } from '../engine/runtime/execution-provider'
import { loadSae } from '../engine/sae/sae-load'
import { toJson } from '../engine/steer/run-export'
import { SteeredModel } from '../engine/steer/steered-model'
import { runSteering } from '../engine/steer/steering-run'
import type { SteerTask, TaskContext } from './worker-protocol'

/** ESM2 up to `layer` with the SAE hooked in there, ready to generate under clamps (jobs and the live preview). */
export async function openSteered(
  modelDir: string,
  saeDir: string,
  layer: number,
  runtime: RuntimeOptions,
  cacheRoot: string,
  saeK?: number
): Promise<SteeredModel> {
  const imported = await importEsm2(modelDir, cacheRoot)
  const model = await Esm2Model.open(imported, runtime)
  try {
    const sae = await loadSae(saeDir, { layer, libraryK: saeK })
    return new SteeredModel(model, sae, layer)
  } catch (e) {
    await model.close()
    throw e
  }
}

/** The worker side of a 'steer' job. */
export async function runSteerTask(task: SteerTask, ctx: TaskContext): Promise<{ runId: string }> {
  const steered = await openSteered(
    task.modelDir,
    task.saeDir,
    task.layer,
    { device: task.device, deviceId: 0, threads: task.threads },
    task.modelCacheRoot,
    task.saeK
  )
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
