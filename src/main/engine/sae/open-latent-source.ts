/**
 * "Model + SAE at a layer, ready to run" in one call: the ESM2 model opened (`openEsm2`), the SAE loaded, checked
 * against the model (width, layer) and chained to it as a `LatentExtractor`. If any step fails, what was opened
 * is closed again. `close()` releases the extractor and the model.
 */
import type { Esm2Model } from '../esm/esm2-model'
import { openEsm2, type ModelSource } from '../esm/open-esm2'
import { LatentExtractor, type LatentExtractorOptions } from './latent-extractor'
import { loadSae, type LoadSaeOptions } from './sae-load'
import type { SaeWeights } from './sae-weights'

export interface SaeSource {
  /** The SAE: a file or a folder in any of the registered formats. */
  saeDir: string
  /** How the SAE is read (its layer, file in a folder, k). */
  sae?: LoadSaeOptions
  /** Called with the SAE once it is loaded, before it is chained to the model (log its notes; throw to refuse it). */
  onSaeLoaded?: (sae: SaeWeights, model: Esm2Model) => void
}

export type ModelAndSaeSource = ModelSource & SaeSource

export interface LatentSourceSpec extends ModelAndSaeSource {
  /** The extractor's layer (checked against the SAE's), batching and chunking. */
  extractor?: LatentExtractorOptions
}

export interface OpenLatentSource {
  model: Esm2Model
  sae: SaeWeights
  extractor: LatentExtractor
  /** Closes the extractor, then the model. */
  close(): Promise<void>
}

/** Loads the SAE for an open model; closes the model when that fails. */
export async function loadSaeFor(model: Esm2Model, source: SaeSource): Promise<SaeWeights> {
  try {
    const sae = await loadSae(source.saeDir, source.sae)
    source.onSaeLoaded?.(sae, model)
    return sae
  } catch (e) {
    await model.close()
    throw e
  }
}

export async function openLatentSource(spec: LatentSourceSpec): Promise<OpenLatentSource> {
  const model = await openEsm2(spec)
  const sae = await loadSaeFor(model, spec)
  const extractor = await LatentExtractor.open(model, sae, spec.extractor).catch(async (e: unknown) => {
    await model.close()
    throw e
  })
  return {
    model,
    sae,
    extractor,
    async close() {
      await extractor.close()
      await model.close()
    }
  }
}
