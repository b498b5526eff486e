/**
 * InterPLM's SAEs (github.com/ElanaPearl/InterPLM, hub `Elana/InterPLM-esm2-8m` / `-650m`):
 * `layer_N/ae_normalized.pt` and `layer_N/ae_unnormalized.pt`, PyTorch zip pickles of a `ReLUSAE` state dict:
 *
 *   bias [d_in], encoder.weight [d_sae, d_in], encoder.bias [d_sae], decoder.weight [d_in, d_sae],
 *   activation_rescale_factor [d_sae] (optional, ones by default), normalize_to_sqrt_d (optional bool)
 *
 *   x' = normalize_to_sqrt_d ? x / max(||x||, 1e-8) · √d_in : x
 *   f  = relu(encoder(x' − bias))                 (nn.Linear: x'·encoder.weightᵀ + encoder.bias)
 *   f /= activation_rescale_factor                 (the normalized form: each feature's max over InterPLM's data is 1)
 *   x̂ = (decoder(f · activation_rescale_factor) + bias) · ||x|| / √d_in   (the scaling only with normalize_to_sqrt_d)
 *
 * In the canonical form, featureScale = 1 / activation_rescale_factor for `ae_normalized.pt` (and for any
 * other file name that is not `*unnormalized*`), and decWeight = decoder.weightᵀ with row j multiplied by the
 * factor, so decode(encode(x)) reconstructs x. A factor of 0 (a feature that never fired in InterPLM's data)
 * would divide by zero; such features are reported in raw units (scale 1) instead.
 *
 * Layer: InterPLM names the folder after the ESM2 layer it reads, counted like HF hidden_states
 * (layer_1 .. layer_6 for the 8M model: the output of block N), so layer = N.
 */
import { basename, dirname } from 'node:path'
import { openTorchCheckpoint } from '../formats/torch-checkpoint'
import type { SaeWeights } from './sae-weights'
import { hashFiles, ShapeContext, transpose } from './sae-tensors'

export const INTERPLM_FILES = ['ae_normalized.pt', 'ae_unnormalized.pt'] as const

/** N of a `layer_N` folder name, or undefined. */
export function interplmLayerOf(folder: string): number | undefined {
  const m = /^layer_(\d+)$/.exec(basename(folder))
  return m ? Number(m[1]) : undefined
}

export function loadInterplmSae(file: string): SaeWeights {
  const ckpt = openTorchCheckpoint(file)
  try {
    if (ckpt.tensors.has('W_enc') || (ckpt.tensors.has('k') && ckpt.tensors.has('b_dec'))) {
      throw new Error(
        `${file}: this InterPLM checkpoint is not a ReLUSAE (it has ${ckpt.tensors.has('W_enc') ? 'W_enc (JumpReLUSAE)' : 'k and b_dec (TopKSAE)'}); ` +
          'only ReLU SAEs are read from InterPLM files. Convert it to the generic layout (sae.json + sae.safetensors), which supports TopK and JumpReLU'
      )
    }
    const ctx = new ShapeContext(ckpt, 'InterPLM (bias/encoder/decoder)')
    const preBias = ctx.read('bias', ['d_in'])
    const encRows = ctx.read('encoder.weight', ['d_sae', 'd_in'])
    const dIn = ctx.size('d_in')
    const dSae = ctx.size('d_sae')
    const encBias = ctx.read('encoder.bias', ['d_sae'])
    const dec = ctx.read('decoder.weight', ['d_in', 'd_sae'])
    const factor = ctx.has('activation_rescale_factor') ? ctx.read('activation_rescale_factor', ['d_sae']) : new Float32Array(dSae).fill(1)
    const normalizeToSqrtD = (ctx.scalar('normalize_to_sqrt_d') ?? 0) !== 0
    const normalizedForm = !/unnormalized/i.test(basename(file))
    const featureScale = new Float32Array(dSae).fill(1)
    const decWeight = transpose(dec, dIn, dSae) // [d_sae, d_in]
    if (normalizedForm) {
      for (let j = 0; j < dSae; j++) {
        const a = factor[j]
        if (!(a > 0) || !Number.isFinite(a)) continue
        featureScale[j] = 1 / a
        const row = decWeight.subarray(j * dIn, (j + 1) * dIn)
        for (let i = 0; i < dIn; i++) row[i] *= a
      }
    }
    const folder = dirname(file)
    return {
      source: file,
      format: 'interplm',
      hash: hashFiles([file]),
      name: `${basename(dirname(folder))}/${basename(folder)}/${basename(file)}`.replace(/^\.?\//, ''),
      dIn,
      dSae,
      layer: interplmLayerOf(folder),
      activation: { kind: 'relu' },
      normalizeToSqrtD,
      preBias,
      encWeight: transpose(encRows, dSae, dIn),
      encBias,
      featureScale,
      decWeight,
      decBias: preBias.slice()
    }
  } finally {
    ckpt.close()
  }
}
