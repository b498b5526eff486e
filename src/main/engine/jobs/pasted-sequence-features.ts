/**
 * Features of a pasted sequence (typed or pasted by the user, not in the store): its SAE activations are
 * computed on demand through a `LatentSource` (the model + SAE of a run) and answered like a stored protein,
 * with the run's labels and concepts; nothing is stored.
 */
import type { LiveFeaturesQuery, ProteinFeaturesResult } from '../../../shared/store-types'
import { tokenize } from '../esm/alphabet'
import type { LatentSource } from '../sae/latent-source'
import { featureMajorOf } from '../store/latent-codec'
import { NotInStoreError, type LatentStore } from '../store/latent-store'

export async function pastedSequenceFeatures(
  store: LatentStore,
  source: LatentSource,
  q: LiveFeaturesQuery,
  signal?: AbortSignal
): Promise<ProteinFeaturesResult> {
  const runId = q.runId ?? store.defaultRunId()
  const run = store.run(runId)
  if (!run) throw new NotInStoreError(`no run ${runId} in the store`)
  if (run.dSae !== source.dSae || run.layer !== source.layer) {
    throw new Error(
      `the model/SAE given (${source.dSae} latents at layer ${source.layer}) is not the one of run ${runId} (${run.dSae} latents at layer ${run.layer})`
    )
  }
  const sequence = q.sequence.replace(/\s+/g, '').toUpperCase()
  const tokens = tokenize(sequence, 'pasted sequence')
  let latents
  for await (const l of source.extract([{ id: 'pasted', tokens }], { signal })) latents = l
  if (!latents) throw new Error('the latent source returned nothing for the pasted sequence')
  return store.proteins.unstoredSequenceFeatures(runId, sequence, featureMajorOf(latents), q)
}
