/**
 * Where an experiment gets each feature's firing frequency and max activation (for random controls matched
 * by frequency and for multiple-of-max clamps), and its concept F1 (screening):
 * - `storeFeatureStatistics`: the project store's latest complete indexing run (feature_stats), which must
 *   be of the same SAE;
 * - `measureFeatureStatistics`: measured here on a set of reference proteins (the CLI's --reference FASTA, or
 *   the starts): frequency = residues where the feature fires / residues; max = the largest value seen.
 */
import type { LatentExtractor } from '../sae/latent-extractor'
import type { LatentStore } from '../store/latent-store'
import { tokenize } from '../esm/alphabet'
import type { FeatureStatistics } from './conditions'

export function storeFeatureStatistics(
  store: LatentStore,
  dSae: number,
  saeHash: string,
  label = store.path
): FeatureStatistics {
  const run = store
    .runs()
    .filter(r => r.status === 'complete')
    .at(-1)
  if (!run) throw new Error(`${label}: the store has no complete indexing run yet; index the project first`)
  if (run.saeHash !== saeHash)
    throw new Error(
      `${label}: its latest run was indexed with another SAE (sha256 ${run.saeHash.slice(0, 12)}, this one is ${saeHash.slice(0, 12)}); its statistics do not apply`
    )
  const o = store.features.overview(run.id)
  const freq = new Float64Array(dSae)
  const max = new Float64Array(dSae)
  const f1 = new Float64Array(dSae).fill(NaN)
  o.ids.forEach((f, i) => {
    if (f >= dSae) return
    freq[f] = o.freqResidue[i]
    max[f] = o.max[i]
    f1[f] = o.bestF1[i]
  })
  return { freq, max, f1, source: `store ${label}, run ${run.id}` }
}

/** The top features by concept F1 for an annotation type, from the store's latest complete run. */
export function storeTopByConcept(store: LatentStore, type: string, top: number): number[] {
  const run = store
    .runs()
    .filter(r => r.status === 'complete')
    .at(-1)
  if (!run) return []
  return store.db
    .prepare(
      'SELECT feature FROM feature_concepts WHERE run_id = ? AND type = ? AND f1 > 0 ORDER BY f1 DESC, feature LIMIT ?'
    )
    .pluck()
    .all(run.id, type, top) as number[]
}

export async function measureFeatureStatistics(
  extractor: LatentExtractor,
  proteins: { id: string; sequence: string }[],
  label: string,
  signal?: AbortSignal
): Promise<FeatureStatistics> {
  const d = extractor.dSae
  const fires = new Float64Array(d)
  const max = new Float64Array(d)
  let residues = 0
  const inputs = proteins.map(p => ({ id: p.id, tokens: tokenize(p.sequence, p.id) }))
  for await (const l of extractor.extract(inputs, { signal })) {
    residues += l.rows
    for (let k = 0; k < l.features.length; k++) {
      const f = l.features[k]
      fires[f]++
      if (l.values[k] > max[f]) max[f] = l.values[k]
    }
  }
  if (residues === 0) throw new Error(`${label}: no residues to measure firing frequencies on`)
  return {
    freq: fires.map(c => c / residues),
    max,
    source: `${label} (${proteins.length} proteins, ${residues} residues)`
  }
}
