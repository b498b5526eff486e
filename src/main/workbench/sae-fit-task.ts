/**
 * The SAE fit check as a job (worker thread): imports the model, loads the SAE, takes the sample (the demo set
 * or a project's proteins: the first FIT_SAMPLE_PROTEINS, at most FIT_SAMPLE_RESIDUES residues) and runs
 * engine/sae/sae-fit.ts's `checkSaeFit` on the declared layer or on every layer (`check-sae --layers all`), with
 * progress (rate, ETA) and cancel. The result is a `SaeFitCheck`, kept with the SAE's library entry.
 */
import type { SaeFitCheck } from '../../shared/library-types'
import { openEsm2 } from '../engine/esm/open-esm2'
import { ensureDemoModelsWithRuntime } from '../engine/library/demo-runtime'
import {
  checkSaeFit,
  FIT_SAMPLE_PROTEINS,
  FIT_SAMPLE_RESIDUES,
  saeLayerFit,
  sampleProteins
} from '../engine/sae/sae-fit'
import { loadSaeFor } from '../engine/sae/open-latent-source'
import type { SaeFitTask, TaskContext } from './worker-protocol'

export async function runSaeFitTask(task: SaeFitTask, ctx: TaskContext): Promise<SaeFitCheck> {
  if (task.demo) {
    ctx.progress({ phase: 'generating the demo models (random weights)', done: 0, total: 1, unit: 'steps' })
    await ensureDemoModelsWithRuntime(task.demo.dataDir, task.demo.esmResourcesDir, task.modelCacheRoot)
  }
  ctx.progress({ phase: 'importing the model', done: 0, total: 1, unit: 'steps' })
  const model = await openEsm2({
    modelDir: task.modelDir,
    cacheRoot: task.modelCacheRoot,
    runtime: { device: task.device, deviceId: 0, threads: task.threads },
    signal: ctx.signal
  })
  // loadSaeFor closes the model when the SAE does not load
  const sae = await loadSaeFor(model, { saeDir: task.saeDir, sae: { layer: task.layer, libraryK: task.saeK } })
  try {
    const declaredLayer = task.layer ?? sae.layer
    if (task.layers === 'declared' && declaredLayer === undefined)
      throw new Error(`${sae.name} does not say which layer it reads: check every layer to find the one it fits best.`)
    const proteins = await sampleProteins(
      task.input,
      model.window,
      FIT_SAMPLE_PROTEINS,
      FIT_SAMPLE_RESIDUES,
      ctx.signal
    )
    if (proteins.length === 0)
      throw new Error(`${task.sample} has no protein that fits the model's window to check the SAE on.`)
    const layers =
      task.layers === 'all'
        ? Array.from({ length: model.config.numLayers + 1 }, (_, l) => l)
        : [declaredLayer as number]
    const started = Date.now()
    const phase = `checking the fit on ${layers.length === 1 ? `layer ${layers[0]}` : `${layers.length} layers`}`
    ctx.progress({ phase, done: 0, total: 1, unit: 'steps' })
    const report = await checkSaeFit(model, { ...sae, layer: declaredLayer }, proteins, {
      layers,
      onProgress: (done, total) => {
        if (ctx.signal.aborted) throw new Error('cancelled')
        const rate = done / Math.max(1e-3, (Date.now() - started) / 1000)
        ctx.progress({ phase, done, total, unit: 'steps', rate, etaSeconds: (total - done) / rate })
      }
    })
    return {
      modelId: task.modelId,
      modelName: task.modelName,
      sample: task.sample,
      proteins: report.proteins,
      residues: report.residues,
      layers: report.layers.map(saeLayerFit),
      ...(declaredLayer !== undefined ? { declaredLayer } : {}),
      bestLayer: report.bestLayer,
      warnings: report.warnings,
      checkedAt: new Date().toISOString()
    }
  } finally {
    await model.close()
  }
}
