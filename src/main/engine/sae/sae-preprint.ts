/**
 * The preprint's SAE ("Interpreting and Steering Protein Language Models through Sparse Autoencoders",
 * hub repository `evillegasgarcia/sae_esm2_6_l3`): a `PyTorchModelHubMixin` save of the `AutoEncoder` class
 * of github.com/edithvillegas/plm-sae (`sae/SAE_methods.py`, adapted from Neel Nanda's 1L-Sparse-Autoencoder).
 *
 *   <dir>/config.json          the constructor's `cfg`, flat or nested as {"cfg": {...}}: act_size (d_in),
 *                              dict_size (d_sae), layer, enc_dtype, device, l1_coeff, seed, ...
 *   <dir>/model.safetensors    (or pytorch_model.bin, a torch zip pickle of the state dict)
 *                              W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in]
 *
 *   encode(x) = relu((x − b_dec) · W_enc + b_enc)        decode(f) = f · W_dec + b_dec
 *
 * Layer numbering. The preprint reads ESM2 with a forward hook on `model.esm.encoder.layer[3].output`
 * (README of edithvillegas/plm-sae; the repository name ends in `_l3`), and its config stores that block
 * index: `layer: 3`. In Hugging Face `EsmLayer`, the `output` submodule (EsmOutput) computes
 * `dense(intermediate) + attention_output`, i.e. the residual stream after block 3, which is
 * `hidden_states[4]` (hidden_states[0] is the embeddings, hidden_states[i + 1] the output of block i).
 * So our layer = cfg.layer + 1 = 4. (Caveat: for the LAST block, HF hidden_states[N] is taken after the
 * final LayerNorm, while the hook output is before it; an SAE trained on block N − 1 therefore does not
 * match any hidden_states row exactly; it is still mapped to N. The published SAE reads block 3 of 6, which
 * is unaffected.)
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { openSafetensors } from '../formats/safetensors'
import type { TensorArchive } from '../formats/tensor-archive'
import { openTorchCheckpoint } from '../formats/torch-checkpoint'
import type { SaeWeights } from './sae-weights'
import { configInt, hashFiles, ones, ShapeContext } from './sae-tensors'

export const PREPRINT_WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const

export interface PreprintConfig {
  dIn: number | undefined
  dSae: number | undefined
  /** The config's `layer` (the encoder block index), as written. */
  block: number | undefined
}

/** The constructor config from config.json, flat or nested under "cfg". */
export function parsePreprintConfig(json: unknown, file: string): PreprintConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file}: expected a JSON object`)
  const outer = json as Record<string, unknown>
  const cfg = (typeof outer.cfg === 'object' && outer.cfg !== null ? outer.cfg : outer) as Record<string, unknown>
  if (cfg.act_size === undefined && cfg.dict_size === undefined) {
    const hint = outer.model_type !== undefined ? ` (it has model_type "${String(outer.model_type)}": this looks like a model folder, not an SAE)` : ''
    throw new Error(`${file}: not a preprint SAE config: it has neither "act_size" nor "dict_size"${hint}`)
  }
  return {
    dIn: configInt(cfg.act_size, 'act_size', file),
    dSae: configInt(cfg.dict_size, 'dict_size', file),
    block: configInt(cfg.layer, 'layer', file)
  }
}

export function isPreprintDir(dir: string): boolean {
  return existsSync(join(dir, 'config.json')) && PREPRINT_WEIGHT_FILES.some((f) => existsSync(join(dir, f)))
}

export function loadPreprintSae(dir: string): SaeWeights {
  const configPath = join(dir, 'config.json')
  let json: unknown
  try {
    json = JSON.parse(readFileSync(configPath, 'utf8'))
  } catch (e) {
    throw new Error(`${configPath}: cannot read the SAE config (${(e as Error).message})`, { cause: e })
  }
  const cfg = parsePreprintConfig(json, configPath)
  const weightFile = PREPRINT_WEIGHT_FILES.map((f) => join(dir, f)).find((p) => existsSync(p))
  if (weightFile === undefined) throw new Error(`${dir}: no ${PREPRINT_WEIGHT_FILES.join(' or ')} next to config.json`)
  const archive: TensorArchive = weightFile.endsWith('.safetensors') ? openSafetensors(weightFile) : openTorchCheckpoint(weightFile)
  try {
    const ctx = new ShapeContext(archive, 'preprint (W_enc/b_enc/W_dec/b_dec)', { d_in: cfg.dIn, d_sae: cfg.dSae }, `${basename(configPath)} act_size/dict_size`)
    const encWeight = ctx.read('W_enc', ['d_in', 'd_sae'])
    const encBias = ctx.read('b_enc', ['d_sae'])
    const decWeight = ctx.read('W_dec', ['d_sae', 'd_in'])
    const decBias = ctx.read('b_dec', ['d_in'])
    const dIn = ctx.size('d_in')
    const dSae = ctx.size('d_sae')
    return {
      source: dir,
      format: 'preprint',
      hash: hashFiles([weightFile, configPath]),
      name: basename(dir),
      dIn,
      dSae,
      layer: cfg.block === undefined ? undefined : cfg.block + 1,
      activation: { kind: 'relu' },
      normalizeToSqrtD: false,
      preBias: decBias.slice(),
      encWeight,
      encBias,
      featureScale: ones(dSae),
      decWeight,
      decBias
    }
  } finally {
    archive.close()
  }
}
