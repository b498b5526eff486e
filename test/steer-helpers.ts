/**
 * Shared set-up of the steering tests: a random-weight ESM2 checkpoint (real HF layout) imported into a temp
 * cache, and a random SAE saved in the preprint's format (config.json + model.safetensors), loaded by the
 * product's loader. The SAE's encoder biases are set so that a fraction of the features fire.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  createRng,
  referenceConfigFor,
  writeHfCheckpoint,
  type Esm2ShapeName,
  type Esm2Weights
} from './fixtures/esm2-checkpoint'
import { writeSafetensors } from './fixtures/safetensors-writer'
import type { PreprintTensors } from './reference/sae-reference'
import { importEsm2, type ImportedEsm2 } from '../src/main/engine/esm/esm2-import'
import { Esm2Model } from '../src/main/engine/esm/esm2-model'
import { preprintProvider } from '../src/main/engine/sae/sae-preprint'
import type { SaeWeights } from '../src/main/engine/sae/sae-weights'

export const CPU = { device: 'cpu' as const, deviceId: 0, threads: 2 }

export interface SaeFixture {
  dir: string
  tensors: PreprintTensors
}

/** A preprint-format SAE folder; `block` is the config's layer (our layer = block + 1). */
export function writePreprintSaeDir(dir: string, dIn: number, dSae: number, block: number, seed: number): SaeFixture {
  mkdirSync(dir, { recursive: true })
  const rng = createRng(seed)
  const normal = (n: number, std: number, mean = 0): Float32Array =>
    Float32Array.from({ length: n }, () => mean + std * rng.normal())
  const W_enc = normal(dIn * dSae, 1 / Math.sqrt(dIn))
  const b_enc = normal(dSae, 0.3, -0.8)
  const W_dec = normal(dSae * dIn, 1 / Math.sqrt(dIn))
  const b_dec = normal(dIn, 0.1)
  writeSafetensors(
    join(dir, 'model.safetensors'),
    {
      W_enc: { dtype: 'F32', shape: [dIn, dSae], data: W_enc },
      b_enc: { dtype: 'F32', shape: [dSae], data: b_enc },
      W_dec: { dtype: 'F32', shape: [dSae, dIn], data: W_dec },
      b_dec: { dtype: 'F32', shape: [dIn], data: b_dec }
    },
    { format: 'pt' }
  )
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      cfg: { act_size: dIn, dict_size: dSae, layer: block, enc_dtype: 'fp32', device: 'cuda', l1_coeff: 3e-4, seed }
    })
  )
  return {
    dir,
    tensors: {
      W_enc: { shape: [dIn, dSae], data: W_enc },
      b_enc: { shape: [dSae], data: b_enc },
      W_dec: { shape: [dSae, dIn], data: W_dec },
      b_dec: { shape: [dIn], data: b_dec }
    }
  }
}

export interface SteerSetup {
  weights: Esm2Weights
  refConfig: ReturnType<typeof referenceConfigFor>
  imported: ImportedEsm2
  model: Esm2Model
  sae: SaeWeights
  saeFixture: SaeFixture
  modelDir: string
}

/** Model + SAE in `root`: the tiny shape (3 layers, hidden 32) with a 64-feature SAE at layer 2 by default. */
export async function steerSetup(
  root: string,
  shape: Esm2ShapeName = 'tiny',
  dSae = 64,
  layer = 2
): Promise<SteerSetup> {
  const modelDir = join(root, 'model')
  const weights = writeHfCheckpoint(modelDir, shape, 5, { omitTiedDecoder: true })
  const imported = await importEsm2(modelDir, join(root, 'cache'))
  const model = await Esm2Model.open(imported, CPU)
  const saeFixture = writePreprintSaeDir(join(root, 'sae'), imported.config.hiddenSize, dSae, layer - 1, 17)
  const sae = preprintProvider.load(saeFixture.dir, {})
  return { weights, refConfig: referenceConfigFor(shape), imported, model, sae, saeFixture, modelDir }
}
