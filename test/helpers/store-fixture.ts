/** A real store file with synthetic proteins and latents, plus the dense latents as the store rounds them. */
import { join } from 'node:path'
import { LatentStore } from '../../src/main/engine/store/latent-store'
import { roundTripValue } from '../../src/main/engine/store/latent-codec'
import type { StatisticsSettings } from '../../src/main/engine/store/feature-statistics'
import { syntheticProteins, toSparse, type DenseProtein } from '../reference/store-reference'

export async function syntheticStore(
  dir: string,
  opts: { proteins?: number; width?: number; seed?: number; stats?: Partial<StatisticsSettings>; name?: string } = {}
): Promise<{ store: LatentStore; runId: number; dense: DenseProtein[]; width: number; path: string }> {
  const width = opts.width ?? 24
  const path = join(dir, opts.name ?? 'store.sqlite')
  const store = LatentStore.open(path)
  const synth = syntheticProteins(opts.proteins ?? 60, width, opts.seed ?? 7)
  const { ids } = store.addProteins(
    synth.map((s, i) => ({
      accession: `P${String(i).padStart(5, '0')}`,
      name: `PROT${i}_TEST`,
      organism: i % 2 ? 'Homo sapiens' : 'Mus musculus',
      description: `protein ${i}`,
      sequence: s.sequence,
      annotations: s.annotations
    }))
  )
  const run = store.ensureRun({ modelName: 'm', modelHash: 'mh', saeName: 's', saeHash: 'sh', layer: 4, dSae: width })
  store.putLatents(
    run.id,
    synth.map((s, i) => ({ proteinId: ids[i], latents: toSparse(String(ids[i]), s.dense, s.sequence.length, width) }))
  )
  await store.computeStatistics(run.id, opts.stats ?? {})
  store.setRunStatus(run.id, 'complete')
  const dense = synth.map((s, i) => ({
    proteinId: ids[i],
    length: s.sequence.length,
    dense: Float64Array.from(s.dense, v => (v > 0 ? roundTripValue(v) : 0)),
    annotations: s.annotations
  }))
  return { store, runId: run.id, dense, width, path }
}
