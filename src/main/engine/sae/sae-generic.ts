/**
 * The generic SAE layout of PLM-SAE Workbench, for SAEs from any trainer (SAELens, dictionary_learning,
 * your own code): a folder with two files.
 *
 * `sae.json`:
 *   {
 *     "format": "plm-sae-generic",   optional marker
 *     "version": 1,                  optional, 1
 *     "d_in": 320, "d_sae": 10240,   optional, checked against the tensors
 *     "layer": 4,                    optional: the ESM2 layer read, HF hidden_states numbering
 *                                    (0 = embeddings, L = output of block L, the last after the final LayerNorm)
 *     "activation": "relu" | "topk" | "jumprelu",     default "relu"
 *     "k": 64,                       topk: the number of latents kept per row
 *     "threshold": 0.05,             jumprelu: one threshold for all latents (or the tensor "threshold")
 *     "normalize_to_sqrt_d": false,  scale each input row to norm √d_in before encoding (decode scales back)
 *     "apply_b_dec_to_input": true,  without a "b_pre" tensor: subtract b_dec from the input (default true)
 *     "name": "my-sae"               optional display name (default: the folder name)
 *   }
 * `sae.safetensors` (F32, F16 or BF16):
 *   W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
 *   optional b_pre [d_in] (the bias subtracted from the input), optional threshold [d_sae] (jumprelu)
 *
 *   s = normalize_to_sqrt_d ? √d_in / max(||x||, 1e-8) : 1
 *   z = (x·s − b_pre) · W_enc + b_enc
 *   f = relu(z) | topk: relu of the k largest z, others 0 | jumprelu: z where z > threshold, else 0
 *   x̂ = (f · W_dec + b_dec) / s
 */
import { existsSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { openSafetensors } from '../formats/safetensors'
import type { SaeActivation, SaeWeights } from './sae-weights'
import { configInt, hashFiles, ones, ShapeContext } from './sae-tensors'

export const GENERIC_CONFIG = 'sae.json'
export const GENERIC_WEIGHTS = 'sae.safetensors'
export const GENERIC_FORMAT_MARKER = 'plm-sae-generic'

export interface GenericSaeConfig {
  format?: string
  version?: number
  d_in?: number
  d_sae?: number
  layer?: number
  activation?: 'relu' | 'topk' | 'jumprelu'
  k?: number
  threshold?: number
  normalize_to_sqrt_d?: boolean
  apply_b_dec_to_input?: boolean
  name?: string
}

export function isGenericDir(dir: string): boolean {
  return existsSync(join(dir, GENERIC_CONFIG))
}

function bool(value: unknown, key: string, file: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'boolean') throw new Error(`${file}: "${key}" should be true or false, found ${JSON.stringify(value)}`)
  return value
}

export function loadGenericSae(dir: string): SaeWeights {
  const configPath = join(dir, GENERIC_CONFIG)
  const weightPath = join(dir, GENERIC_WEIGHTS)
  let cfg: GenericSaeConfig
  try {
    cfg = JSON.parse(readFileSync(configPath, 'utf8')) as GenericSaeConfig
  } catch (e) {
    throw new Error(`${configPath}: cannot read the SAE config (${(e as Error).message})`, { cause: e })
  }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new Error(`${configPath}: expected a JSON object`)
  if (cfg.format !== undefined && cfg.format !== GENERIC_FORMAT_MARKER) throw new Error(`${configPath}: "format" is "${cfg.format}", expected "${GENERIC_FORMAT_MARKER}"`)
  if (cfg.version !== undefined && cfg.version !== 1) throw new Error(`${configPath}: version ${cfg.version} is not supported (this build reads version 1); update PLM-SAE Workbench`)
  if (!existsSync(weightPath)) throw new Error(`${dir}: ${GENERIC_CONFIG} is there but ${GENERIC_WEIGHTS} is missing`)
  const kind = cfg.activation ?? 'relu'
  if (!['relu', 'topk', 'jumprelu'].includes(kind)) throw new Error(`${configPath}: "activation" is ${JSON.stringify(kind)}; use "relu", "topk" or "jumprelu"`)
  const archive = openSafetensors(weightPath)
  try {
    const ctx = new ShapeContext(archive, 'generic (W_enc/b_enc/W_dec/b_dec)', { d_in: configInt(cfg.d_in, 'd_in', configPath), d_sae: configInt(cfg.d_sae, 'd_sae', configPath) }, `${GENERIC_CONFIG} d_in/d_sae`)
    const encWeight = ctx.read('W_enc', ['d_in', 'd_sae'])
    const encBias = ctx.read('b_enc', ['d_sae'])
    const decWeight = ctx.read('W_dec', ['d_sae', 'd_in'])
    const decBias = ctx.read('b_dec', ['d_in'])
    const dIn = ctx.size('d_in')
    const dSae = ctx.size('d_sae')
    const preBias = ctx.has('b_pre') ? ctx.read('b_pre', ['d_in']) : bool(cfg.apply_b_dec_to_input, 'apply_b_dec_to_input', configPath, true) ? decBias.slice() : new Float32Array(dIn)
    let activation: SaeActivation
    if (kind === 'topk') {
      const k = configInt(cfg.k, 'k', configPath)
      if (k === undefined || k < 1) throw new Error(`${configPath}: a topk SAE needs "k" (a positive integer)`)
      activation = { kind: 'topk', k: Math.min(k, dSae) }
    } else if (kind === 'jumprelu') {
      let threshold: Float32Array
      if (ctx.has('threshold')) threshold = ctx.read('threshold', ['d_sae'])
      else if (typeof cfg.threshold === 'number' && Number.isFinite(cfg.threshold)) threshold = new Float32Array(dSae).fill(cfg.threshold)
      else throw new Error(`${configPath}: a jumprelu SAE needs a "threshold" tensor [d_sae] in ${GENERIC_WEIGHTS} or a numeric "threshold" in ${GENERIC_CONFIG}`)
      activation = { kind: 'jumprelu', threshold }
    } else {
      activation = { kind: 'relu' }
    }
    const layer = configInt(cfg.layer, 'layer', configPath)
    return {
      source: dir,
      format: 'generic',
      hash: hashFiles([weightPath, configPath]),
      name: typeof cfg.name === 'string' && cfg.name !== '' ? cfg.name : basename(dir),
      dIn,
      dSae,
      layer,
      activation,
      normalizeToSqrtD: bool(cfg.normalize_to_sqrt_d, 'normalize_to_sqrt_d', configPath, false),
      preBias,
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
