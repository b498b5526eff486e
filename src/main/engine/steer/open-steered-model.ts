/**
 * "Model + SAE at a layer, ready to steer" in one call: the ESM2 model opened (`openEsm2`) and the SAE loaded
 * for it (`loadSaeFor`, as `openLatentSource` does), wrapped in a `SteeredModel` at the SAE's layer. If any
 * step fails the model is closed again; `steered.model.close()` releases it.
 */
import { openEsm2 } from '../esm/open-esm2'
import { loadSaeFor, type ModelAndSaeSource } from '../sae/open-latent-source'
import { SteeredModel } from './steered-model'

export interface SteeredModelSpec extends ModelAndSaeSource {
  /** The layer to steer at (default: the SAE's own; checked against it). */
  layer?: number
}

export async function openSteeredModel(spec: SteeredModelSpec): Promise<SteeredModel> {
  const model = await openEsm2(spec)
  const sae = await loadSaeFor(model, spec)
  try {
    return new SteeredModel(model, sae, spec.layer)
  } catch (e) {
    await model.close()
    throw e
  }
}
