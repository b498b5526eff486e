/**
 * "ESM2 ready to run" in one call: the checkpoint imported into the model cache (or found there) and the model
 * opened on the device the runtime options choose. Every caller that runs a model opens it here (the CLI, the
 * workbench's tasks, live features, the benchmarks), so that importing, device choice and window are one rule.
 */
import type { RuntimeOptions } from '../runtime/execution-provider'
import { importEsm2, type ImportedEsm2, type ImportProgress } from './esm2-import'
import { Esm2Model } from './esm2-model'

export interface ModelSource {
  /** An ESM2 checkpoint: a Hugging Face folder, a fair-esm .pt file or a sharded folder. */
  modelDir: string
  /** The model cache the checkpoint is imported into. */
  cacheRoot: string
  runtime: RuntimeOptions
  /** The residue window (default: the model's `DEFAULT_WINDOW`). */
  window?: number
  /** Cancels the import. */
  signal?: AbortSignal
  onImportProgress?: (p: ImportProgress) => void
  /** Called once the checkpoint is in the cache, before the model opens (throw to stop there). */
  onImported?: (imported: ImportedEsm2) => void
}

export async function openEsm2(source: ModelSource): Promise<Esm2Model> {
  const imported = await importEsm2(source.modelDir, source.cacheRoot, {
    signal: source.signal,
    onProgress: source.onImportProgress
  })
  source.onImported?.(imported)
  return Esm2Model.open(imported, source.runtime, source.window)
}
