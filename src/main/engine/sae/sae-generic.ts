/**
 * The generic SAE layout of PLM-SAE Workbench, for SAEs from any trainer: a folder with two files. Every
 * other format converts to it exactly (`saveGenericSae`, `plm-sae convert-sae`): each option below is one
 * of the canonical encoder's (sae-weights.ts).
 *
 * `sae.json`:
 *   {
 *     "format": "plm-sae-generic",   optional marker
 *     "version": 1,                  optional, 1
 *     "d_in": 320, "d_sae": 10240,   optional, checked against the tensors
 *     "layer": 4,                    optional: the ESM2 layer read, HF hidden_states numbering
 *                                    (0 = embeddings, L = output of block L, the last after the final LayerNorm)
 *     "activation": "relu" | "topk" | "jumprelu" | "batchtopk",   default "relu"
 *     "k": 64,                       topk: the number of latents kept per row
 *     "topk_relu": true,             topk: ReLU on the kept values (default true; false keeps negative ones)
 *     "threshold": 0.05,             jumprelu / batchtopk: one threshold for all latents (or the tensor "threshold")
 *     "jumprelu_relu": false,        jumprelu: also require z > 0 (default false; batchtopk always true)
 *     "input_norm": "none" | "sqrt_d" | "standardize",   default "none":
 *                                    sqrt_d: scale each input row to norm √d_in (decode scales back);
 *                                    standardize: (x − mean) / (unbiased std + 1e-5) (decode: · std + mean)
 *     "normalize_to_sqrt_d": false,  the older spelling of "input_norm": "sqrt_d"
 *     "apply_b_dec_to_input": true,  without a "b_pre" tensor: subtract b_dec from the input (default true)
 *     "name": "my-sae"               optional display name (default: the folder name)
 *   }
 * `sae.safetensors` (F32, F16 or BF16):
 *   W_enc [d_in, d_sae], b_enc [d_sae], b_dec [d_in],
 *   W_dec [d_sae, d_in] (absent: tied, W_dec = W_encᵀ),
 *   optional b_pre [d_in] (the bias subtracted from the input), optional threshold [d_sae] (jumprelu),
 *   optional feature_scale [d_sae] (each feature's reported value is multiplied by it; W_dec is in the
 *   reported units, so a scale of 0 reports 0 for a feature that never fired)
 *
 *   x' = input_norm(x)
 *   z = (x' − b_pre) · W_enc + b_enc
 *   f = act(z) ⊙ feature_scale
 *   x̂ = un_norm(f · W_dec + b_dec)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { openSafetensors, SafetensorsWriter } from '../formats/safetensors'
import { has, isDir, isFile, NOT_THIS, peekTensors, type SaeFormatProvider, type SaeProbe } from './sae-provider'
import type { SaeActivation, SaeInputNorm, SaeWeights } from './sae-weights'
import { configInt, configSizes, hashFiles, ones, readEncoderDecoder, ShapeContext } from './sae-tensors'

export const GENERIC_CONFIG = 'sae.json'
export const GENERIC_WEIGHTS = 'sae.safetensors'
export const GENERIC_FORMAT_MARKER = 'plm-sae-generic'

export interface GenericSaeConfig {
  format?: string
  version?: number
  d_in?: number
  d_sae?: number
  layer?: number
  activation?: 'relu' | 'topk' | 'jumprelu' | 'batchtopk'
  k?: number
  topk_relu?: boolean
  threshold?: number
  jumprelu_relu?: boolean
  input_norm?: 'none' | 'sqrt_d' | 'standardize'
  normalize_to_sqrt_d?: boolean
  apply_b_dec_to_input?: boolean
  name?: string
  /** Where the SAE was converted from (written by saveGenericSae; informative). */
  converted_from?: string
}

export function isGenericDir(dir: string): boolean {
  return existsSync(join(dir, GENERIC_CONFIG))
}

function bool(value: unknown, key: string, file: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback
  if (typeof value !== 'boolean')
    throw new Error(`${file}: "${key}" should be true or false, found ${JSON.stringify(value)}`)
  return value
}

const INPUT_NORMS: Record<string, SaeInputNorm> = { none: 'none', sqrt_d: 'sqrt-d', standardize: 'standardize' }

function folderOf(path: string): string {
  return isFile(path) && [GENERIC_CONFIG, GENERIC_WEIGHTS].includes(basename(path)) ? dirname(path) : path
}

export const genericProvider: SaeFormatProvider = {
  id: 'generic',
  name: 'Generic (this app)',
  origin: 'this project (src/main/engine/sae/sae-generic.ts)',
  files: '`sae.json` + `sae.safetensors`',
  architectures:
    'ReLU, top-k (with or without ReLU), JumpReLU, BatchTopK; √d or standardised input; per-feature scale; tied decoder',
  probe(path: string): SaeProbe {
    const dir = folderOf(path)
    if (!isDir(dir) || !has(dir, GENERIC_CONFIG)) return NOT_THIS
    if (!has(dir, GENERIC_WEIGHTS)) return { confidence: 0.9, found: `${GENERIC_CONFIG} without ${GENERIC_WEIGHTS}` }
    const { found } = peekTensors(join(dir, GENERIC_WEIGHTS))
    return {
      confidence: 1,
      found: `${GENERIC_CONFIG} + ${GENERIC_WEIGHTS}: ${found}`
    }
  },
  hubFolder: names => (names.has(GENERIC_CONFIG) && names.has(GENERIC_WEIGHTS) ? {} : undefined),
  load(path: string): SaeWeights {
    return loadGenericSae(folderOf(path))
  }
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
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg))
    throw new Error(`${configPath}: expected a JSON object`)
  if (cfg.format !== undefined && cfg.format !== GENERIC_FORMAT_MARKER)
    throw new Error(`${configPath}: "format" is "${cfg.format}", expected "${GENERIC_FORMAT_MARKER}"`)
  if (cfg.version !== undefined && cfg.version !== 1)
    throw new Error(
      `${configPath}: version ${cfg.version} is not supported (this build reads version 1); update PLM-SAE Workbench`
    )
  if (!existsSync(weightPath)) throw new Error(`${dir}: ${GENERIC_CONFIG} is there but ${GENERIC_WEIGHTS} is missing`)
  const kind = cfg.activation ?? 'relu'
  if (!['relu', 'topk', 'jumprelu', 'batchtopk'].includes(kind))
    throw new Error(
      `${configPath}: "activation" is ${JSON.stringify(kind)}; use "relu", "topk", "jumprelu" or "batchtopk"`
    )
  let inputNorm: SaeInputNorm = bool(cfg.normalize_to_sqrt_d, 'normalize_to_sqrt_d', configPath, false)
    ? 'sqrt-d'
    : 'none'
  if (cfg.input_norm !== undefined) {
    const n = INPUT_NORMS[cfg.input_norm]
    if (n === undefined)
      throw new Error(
        `${configPath}: "input_norm" is ${JSON.stringify(cfg.input_norm)}; use "none", "sqrt_d" or "standardize"`
      )
    inputNorm = n
  }
  const archive = openSafetensors(weightPath)
  try {
    const ctx = new ShapeContext(
      archive,
      'generic (W_enc/b_enc/W_dec/b_dec)',
      configSizes(cfg, configPath),
      `${GENERIC_CONFIG} d_in/d_sae`
    )
    const tensors = readEncoderDecoder(ctx, { tiedDecoder: true })
    const { dIn, dSae, decBias } = tensors
    const preBias = ctx.has('b_pre')
      ? ctx.read('b_pre', ['d_in'])
      : bool(cfg.apply_b_dec_to_input, 'apply_b_dec_to_input', configPath, true)
        ? decBias.slice()
        : new Float32Array(dIn)
    const threshold = (): Float32Array => {
      if (ctx.has('threshold')) return ctx.read('threshold', ['d_sae'])
      if (typeof cfg.threshold === 'number' && Number.isFinite(cfg.threshold))
        return new Float32Array(dSae).fill(cfg.threshold)
      throw new Error(
        `${configPath}: a ${kind} SAE needs a "threshold" tensor [d_sae] in ${GENERIC_WEIGHTS} or a numeric "threshold" in ${GENERIC_CONFIG}`
      )
    }
    let activation: SaeActivation
    if (kind === 'topk') {
      const k = configInt(cfg.k, 'k', configPath)
      if (k === undefined || k < 1) throw new Error(`${configPath}: a topk SAE needs "k" (a positive integer)`)
      activation = { kind: 'topk', k: Math.min(k, dSae), relu: bool(cfg.topk_relu, 'topk_relu', configPath, true) }
    } else if (kind === 'jumprelu') {
      activation = {
        kind: 'jumprelu',
        threshold: threshold(),
        relu: bool(cfg.jumprelu_relu, 'jumprelu_relu', configPath, false)
      }
    } else if (kind === 'batchtopk') {
      activation = { kind: 'jumprelu', threshold: threshold(), relu: true }
    } else {
      activation = { kind: 'relu' }
    }
    const layer = configInt(cfg.layer, 'layer', configPath)
    return {
      source: dir,
      format: 'generic',
      hash: hashFiles([weightPath, configPath]),
      name: typeof cfg.name === 'string' && cfg.name !== '' ? cfg.name : basename(dir),
      ...tensors,
      layer,
      activation,
      inputNorm,
      preBias,
      featureScale: ctx.has('feature_scale') ? ctx.read('feature_scale', ['d_sae']) : ones(dSae)
    }
  } finally {
    archive.close()
  }
}

/**
 * Writes `sae` in the generic layout to `dir` (created): float32 tensors, every option spelled out, so that
 * loading it back gives the same canonical weights bit for bit.
 */
export function saveGenericSae(sae: SaeWeights, dir: string): void {
  mkdirSync(dir, { recursive: true })
  const a = sae.activation
  const tensors: [string, number[], Float32Array][] = [
    ['W_enc', [sae.dIn, sae.dSae], sae.encWeight],
    ['b_enc', [sae.dSae], sae.encBias],
    ['W_dec', [sae.dSae, sae.dIn], sae.decWeight],
    ['b_dec', [sae.dIn], sae.decBias],
    ['b_pre', [sae.dIn], sae.preBias],
    ['feature_scale', [sae.dSae], sae.featureScale]
  ]
  if (a.kind === 'jumprelu') tensors.push(['threshold', [sae.dSae], a.threshold])
  const w = new SafetensorsWriter(
    join(dir, GENERIC_WEIGHTS),
    tensors.map(([name, shape]) => ({ name, shape })),
    { format: 'pt' }
  )
  try {
    for (const [name, , data] of tensors) w.put(name, data)
    w.finish()
  } catch (e) {
    w.abort()
    throw e
  }
  const cfg: GenericSaeConfig = {
    format: GENERIC_FORMAT_MARKER,
    version: 1,
    d_in: sae.dIn,
    d_sae: sae.dSae,
    ...(sae.layer !== undefined ? { layer: sae.layer } : {}),
    activation: a.kind,
    ...(a.kind === 'topk' ? { k: a.k, topk_relu: a.relu } : {}),
    ...(a.kind === 'jumprelu' ? { jumprelu_relu: a.relu } : {}),
    input_norm: sae.inputNorm === 'sqrt-d' ? 'sqrt_d' : sae.inputNorm,
    name: sae.name,
    converted_from: `${sae.format}${sae.architecture ? ` ${sae.architecture}` : ''}: ${sae.source}`
  }
  writeFileSync(join(dir, GENERIC_CONFIG), JSON.stringify(cfg, null, 2) + '\n')
}
