/**
 * The index job as it runs in the worker: (demo projects) generate the demo model and SAE when missing, import
 * the ESM2 checkpoint into the model cache, open the latent source (ESM2 up to the SAE's layer + the SAE
 * encoder), and run the store's `IndexJob` (proteins, latents, feature statistics) with progress and cancel.
 */
import type { JobProgress } from '../../shared/api'
import type { BadRecordReport, IndexProgress, IndexResult } from '../../shared/store-types'
import { conceptScoringOf } from '../engine/store/concepts'
import { IndexJob } from '../engine/jobs/index-job'
import { BadRecordError } from '../engine/io/protein-input'
import { ensureDemoModelsWithRuntime } from '../engine/library/demo-runtime'
import { checkFitOnFile, FIT_SAMPLE_PROTEINS } from '../engine/sae/sae-fit'
import { openLatentSource } from '../engine/sae/open-latent-source'
import { LatentStore } from '../engine/store/latent-store'
import { ProteinStructures } from '../engine/store/protein-structures'
import type { IndexTask, TaskContext } from './worker-protocol'

/** The BadRecordError behind a failure, if any (the latent source may wrap errors of the input it reads). */
function badRecordErrorOf(e: unknown): BadRecordError | undefined {
  for (let c = e, depth = 0; c && depth < 8; c = (c as { cause?: unknown }).cause, depth++)
    if (c instanceof BadRecordError) return c
  return undefined
}

const PHASES: Record<IndexProgress['phase'], string> = {
  reading: 'reading proteins',
  latents: 'computing latents',
  statistics: 'feature statistics',
  done: 'done',
  cancelled: 'cancelled',
  failed: 'failed'
}

/** The job list's view of the store's index progress. */
export function jobProgressOf(p: IndexProgress): JobProgress {
  if (p.phase === 'statistics') {
    return {
      phase: PHASES.statistics,
      done: Math.round((p.statsFraction ?? 0) * 1000),
      total: 1000,
      unit: 'permille',
      detail: `${p.proteinsDone} proteins indexed`
    }
  }
  return {
    phase: PHASES[p.phase],
    done: p.residuesDone,
    total: p.residuesTotal,
    unit: 'residues',
    rate: p.residuesPerSecond || undefined,
    etaSeconds: p.etaSeconds ?? undefined,
    detail: `${p.proteinsDone} / ${p.proteinsTotal} proteins${p.skippedExisting ? ` (${p.skippedExisting} already stored)` : ''}${p.badRecords ? `, ${p.badRecords} bad records skipped` : ''}`
  }
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new Error('cancelled')
}

export async function runIndexTask(task: IndexTask, ctx: TaskContext): Promise<IndexResult> {
  if (task.demo) {
    ctx.progress({ phase: 'generating the demo models (random weights)', done: 0, total: 3, unit: 'steps' })
    await ensureDemoModelsWithRuntime(task.demo.dataDir, task.demo.esmResourcesDir, task.modelCacheRoot)
  }
  throwIfCancelled(ctx.signal)
  ctx.progress({ phase: 'importing the model', done: 1, total: 3, unit: 'steps' })
  const named = (r: BadRecordReport): BadRecordReport =>
    task.inputName && r.file === task.input ? { ...r, file: task.inputName } : r
  const { model, sae, extractor, close } = await openLatentSource({
    modelDir: task.modelDir,
    cacheRoot: task.modelCacheRoot,
    runtime: { device: task.device, deviceId: 0, threads: task.threads },
    signal: ctx.signal,
    onImportProgress: p =>
      ctx.progress({ phase: `importing the model (${p.phase})`, done: p.done, total: p.total, unit: 'bytes' }),
    onImported: () => {
      throwIfCancelled(ctx.signal)
      ctx.progress({ phase: 'loading the SAE', done: 2, total: 3, unit: 'steps' })
    },
    saeDir: task.saeDir,
    sae: { layer: task.layer, libraryK: task.saeK },
    extractor: { layer: task.layer }
  })
  const imported = model.imported
  let store: LatentStore | undefined
  try {
    store = LatentStore.open(task.db)
    ctx.progress({ phase: "checking the SAE's fit on the first proteins", done: 2, total: 3, unit: 'steps' })
    // the SAE's fit at its layer on the first proteins, stored with the run (a failure here never blocks indexing)
    const fit = await checkFitOnFile(model, sae, extractor.layer, task.input, FIT_SAMPLE_PROTEINS, ctx.signal).catch(
      () => undefined
    )
    throwIfCancelled(ctx.signal)
    const job = new IndexJob({
      store,
      input: task.input,
      source: extractor,
      model: { name: task.modelName, hash: imported.hash, dir: task.modelDir },
      sae: { name: task.saeName, hash: sae.hash, dir: task.saeDir },
      fit,
      onBadRecord: task.onBadRecord,
      statistics: {
        concepts: conceptScoringOf({ falsePositives: task.falsePositives ?? 'annotated', ...task.conceptSplit })
      },
      structures: task.structures?.length ? ProteinStructures.fromFiles(task.structures) : undefined,
      onBadRecordReport: r => ctx.badRecord?.(named(r)),
      signal: ctx.signal,
      onProgress: p => ctx.progress(jobProgressOf(p)),
      lockCommand: `PLM-SAE Workbench, index job (${task.modelName} + ${task.saeName})`
    })
    let result: IndexResult
    try {
      result = await job.run()
    } catch (e) {
      const bad = badRecordErrorOf(e)
      if (!bad) throw e
      // Policy 'stop': the job fails naming the record (in the user's file name); the proteins before it stay stored.
      const r = named(bad.report)
      ctx.badRecord?.(r)
      throw new Error(
        `${r.file}:${r.line}: bad record${r.id ? ` "${r.id}"` : ''}: ${r.message}. The job stopped there (bad records: stop); ` +
          'fix the record, or index again choosing to skip bad records.',
        { cause: e }
      )
    }
    if (result.cancelled) throw new Error('cancelled')
    return { ...result, badRecords: result.badRecords.map(named) }
  } finally {
    await close()
    store?.close()
  }
}
