/**
 * An experiment from files, as the CLI and the workbench's job worker run it: import/open the model, load the
 * SAE, open the store (creating it when missing), take firing frequencies and max activations from the store's
 * latest complete run (when it has one for this SAE) or measure them on reference proteins, run (or resume),
 * and close everything. Also the exports written into a folder.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ExperimentDesign, ExperimentSummary } from '../../../shared/experiment-types'
import { readFasta } from '../io/fasta'
import type { RuntimeOptions } from '../runtime/execution-provider'
import { openLatentSource } from '../sae/open-latent-source'
import { SteeredModel } from '../steer/steered-model'
import { ExperimentStore } from '../store/experiment-store'
import { LatentStore } from '../store/latent-store'
import type { FeatureStatistics } from './conditions'
import {
  conditionFasta,
  conditionFileKey,
  experimentCsv,
  experimentHtml,
  experimentJson,
  experimentPlots
} from './experiment-export'
import { runExperiment, type ExperimentProgress } from './experiment-run'
import { measureFeatureStatistics, storeFeatureStatistics, storeTopByConcept } from './reference-statistics'

export interface ExperimentFiles {
  modelDir: string
  saeDir: string
  layer?: number
  cacheRoot: string
  runtime: RuntimeOptions
  /** The store the experiment is written to (and read from for proteins, statistics, concepts). */
  db: string
  /** A FASTA of proteins to measure firing frequencies on, when the store has no statistics for this SAE. */
  reference?: string
  names?: { model: string; sae: string }
}

export async function runExperimentFiles(
  files: ExperimentFiles,
  design: ExperimentDesign,
  opts: {
    signal?: AbortSignal
    onProgress?: (p: ExperimentProgress) => void
    onImport?: (phase: string, done: number, total: number) => void
  } = {}
): Promise<{ id: string; summary: ExperimentSummary; resumed: boolean }> {
  const source = await openLatentSource({
    modelDir: files.modelDir,
    cacheRoot: files.cacheRoot,
    runtime: files.runtime,
    onImportProgress: p => opts.onImport?.(`importing model: ${p.phase}`, p.done, p.total),
    saeDir: files.saeDir,
    sae: { layer: files.layer },
    extractor: { layer: files.layer }
  })
  const { model, sae, extractor } = source
  let store: LatentStore
  try {
    store = LatentStore.open(files.db)
  } catch (e) {
    await source.close()
    throw e
  }
  try {
    const steered = new SteeredModel(model, sae, extractor.layer)
    let stats: FeatureStatistics | undefined
    const hasRun = store.runs().some(r => r.status === 'complete' && r.saeHash === sae.hash)
    if (files.reference) {
      const proteins: { id: string; sequence: string }[] = []
      for await (const r of readFasta(files.reference)) proteins.push({ id: r.id, sequence: r.sequence })
      stats = await measureFeatureStatistics(extractor, proteins, files.reference, opts.signal)
    } else if (hasRun) {
      stats = storeFeatureStatistics(store, sae.dSae, sae.hash)
    }
    return await runExperiment(
      {
        steered,
        extractor,
        store: new ExperimentStore(store.db),
        stats,
        names: files.names,
        topByConcept: hasRun ? (type, top) => storeTopByConcept(store, type, top) : undefined,
        proteins: accessions =>
          accessions.map(a => {
            const p = store.proteins.get(a)
            if (!p) throw new Error(`design.start.accessions: protein "${a}" is not in the store ${files.db}`)
            return { id: p.accession, sequence: p.sequence }
          })
      },
      design,
      { signal: opts.signal, onProgress: opts.onProgress }
    )
  } finally {
    store.close()
    await source.close()
  }
}

/** Writes every export of a stored experiment into `dir`; returns the files written (relative paths). */
export function writeExperimentExports(dir: string, db: string, id: string): string[] {
  const store = LatentStore.open(db)
  try {
    const es = new ExperimentStore(store.db)
    const summary = es.summary(id)
    if (!summary) throw new Error(`experiment ${id} has no summary yet (it has not finished); run it to the end first`)
    const seqs = es.sequences(id)
    const written: string[] = []
    const put = (name: string, text: string): void => {
      const path = join(dir, name)
      mkdirSync(join(path, '..'), { recursive: true })
      writeFileSync(path, text)
      written.push(name)
    }
    put('sequences.csv', experimentCsv(summary, seqs))
    put('experiment.json', experimentJson(summary))
    for (const c of summary.conditions)
      put(join('fasta', `${conditionFileKey(c.condition)}.fasta`), conditionFasta(summary, c.condition, seqs))
    for (const [name, svg] of Object.entries(experimentPlots(summary, seqs))) put(join('plots', `${name}.svg`), svg)
    put('report.html', experimentHtml(summary, seqs))
    return written
  } finally {
    store.close()
  }
}
