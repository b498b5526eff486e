/**
 * SAELens folders (github.com/jbloomAus/SAELens, `save_model` / `from_pretrained`): `cfg.json` +
 * `sae_weights.safetensors` (+ `sparsity.safetensors`, not needed).
 *
 *   cfg.json: d_in, d_sae, architecture ("standard" | "topk" | "jumprelu"; older files: activation_fn_str
 *             "relu" | "topk"), k (or activation_fn_kwargs.k), apply_b_dec_to_input (default true),
 *             hook_name ("blocks.N.hook_resid_post" …), normalize_activations ("none" only: other modes need
 *             a dataset statistic that is not in the files)
 *   sae_weights.safetensors: W_enc [d_in, d_sae], b_enc [d_sae], W_dec [d_sae, d_in], b_dec [d_in],
 *             threshold [d_sae] (jumprelu; or log_threshold, threshold = exp)
 *
 *   z = (x − b_dec·apply_b_dec_to_input) · W_enc + b_enc
 *   standard: relu(z)     topk: relu of the k largest z     jumprelu: relu(z) · (z > threshold)
 *   x̂ = f · W_dec + b_dec
 * Layer: `blocks.N.hook_resid_post` and `esm.encoder.layer.N` (a block's output) are hidden_states[N + 1];
 * `blocks.N.hook_resid_pre` is hidden_states[N]; other hooks leave the layer to the user.
 */
import { readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { openSafetensors } from '../formats/safetensors'
import {
  has,
  isDir,
  isFile,
  NOT_THIS,
  peekTensors,
  tensorSummary,
  type SaeFormatProvider,
  type SaeProbe
} from './sae-provider'
import type { SaeActivation, SaeWeights } from './sae-weights'
import { configInt, configSizes, hashFiles, ones, readEncoderDecoder, ShapeContext } from './sae-tensors'

export const SAELENS_CONFIG = 'cfg.json'
export const SAELENS_WEIGHTS = 'sae_weights.safetensors'

/** The hidden_states index a SAELens hook name reads, or undefined. */
export function saelensLayerOf(hookName: unknown): number | undefined {
  if (typeof hookName !== 'string') return undefined
  let m = /blocks\.(\d+)\.hook_resid_post$/.exec(hookName) ?? /(?:^|\.)layer\.(\d+)(?:\.output)?$/.exec(hookName)
  if (m) return Number(m[1]) + 1
  m = /blocks\.(\d+)\.hook_resid_pre$/.exec(hookName)
  return m ? Number(m[1]) : undefined
}

function folderOf(path: string): string {
  return isFile(path) && [SAELENS_CONFIG, SAELENS_WEIGHTS].includes(basename(path)) ? dirname(path) : path
}

function readCfg(dir: string): Record<string, unknown> {
  const p = join(dir, SAELENS_CONFIG)
  let cfg: unknown
  try {
    cfg = JSON.parse(readFileSync(p, 'utf8'))
  } catch (e) {
    throw new Error(`${p}: cannot read the SAELens config (${(e as Error).message})`, { cause: e })
  }
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw new Error(`${p}: expected a JSON object`)
  return cfg as Record<string, unknown>
}

function architectureOf(cfg: Record<string, unknown>): string {
  if (typeof cfg.architecture === 'string') return cfg.architecture
  if (cfg.activation_fn_str === 'topk') return 'topk'
  return 'standard'
}

export const saelensProvider: SaeFormatProvider = {
  id: 'saelens',
  name: 'SAELens',
  origin: 'github.com/jbloomAus/SAELens',
  files: '`cfg.json` + `sae_weights.safetensors`',
  architectures: 'standard (ReLU), topk, jumprelu',
  probe(path: string): SaeProbe {
    const dir = folderOf(path)
    if (!isDir(dir) || !has(dir, SAELENS_WEIGHTS))
      return has(dir, SAELENS_CONFIG)
        ? { confidence: 0.5, found: `${SAELENS_CONFIG} without ${SAELENS_WEIGHTS}` }
        : NOT_THIS
    if (!has(dir, SAELENS_CONFIG)) return { confidence: 0.5, found: `${SAELENS_WEIGHTS} without ${SAELENS_CONFIG}` }
    const { found } = peekTensors(join(dir, SAELENS_WEIGHTS))
    let arch: string
    try {
      arch = architectureOf(readCfg(dir))
    } catch (e) {
      return { confidence: 0.5, found: (e as Error).message }
    }
    return {
      confidence: 1,
      found: `${SAELENS_CONFIG} (architecture ${arch}) + ${SAELENS_WEIGHTS}: ${found}`
    }
  },
  hubFolder: (names, folder) =>
    names.has(SAELENS_CONFIG) && names.has(SAELENS_WEIGHTS) ? { layer: saelensLayerOf(basename(folder)) } : undefined,
  load(path: string): SaeWeights {
    return loadSaelensSae(folderOf(path))
  }
}

export function loadSaelensSae(dir: string): SaeWeights {
  const cfg = readCfg(dir)
  const configPath = join(dir, SAELENS_CONFIG)
  const weightPath = join(dir, SAELENS_WEIGHTS)
  const arch = architectureOf(cfg)
  if (!['standard', 'topk', 'jumprelu'].includes(arch))
    throw new Error(
      `${configPath}: architecture "${arch}" is not supported (standard, topk and jumprelu are); convert it to the generic layout (sae.json + sae.safetensors)`
    )
  const norm = cfg.normalize_activations
  if (norm !== undefined && norm !== null && norm !== 'none') {
    throw new Error(
      `${configPath}: normalize_activations is "${String(norm)}": the activations must be rescaled by a dataset statistic that is not in these files; fold it into the weights (SAELens fold_activation_norm_scaling_factor) and save again`
    )
  }
  const archive = openSafetensors(weightPath)
  try {
    const ctx = new ShapeContext(
      archive,
      'SAELens (W_enc/b_enc/W_dec/b_dec)',
      configSizes(cfg, configPath),
      `${SAELENS_CONFIG} d_in/d_sae`
    )
    const tensors = readEncoderDecoder(ctx)
    const { dIn, dSae, decBias } = tensors
    let activation: SaeActivation = { kind: 'relu' }
    if (arch === 'topk') {
      const kwargs = cfg.activation_fn_kwargs as Record<string, unknown> | undefined
      const k = configInt(cfg.k ?? kwargs?.k, 'k', configPath)
      if (k === undefined || k < 1) throw new Error(`${configPath}: a topk SAE needs "k" (or activation_fn_kwargs.k)`)
      activation = { kind: 'topk', k: Math.min(k, dSae), relu: true }
    } else if (arch === 'jumprelu') {
      const threshold = ctx.has('threshold')
        ? ctx.read('threshold', ['d_sae'])
        : ctx.has('log_threshold')
          ? ctx.read('log_threshold', ['d_sae']).map(Math.exp)
          : undefined
      if (threshold === undefined)
        throw new Error(
          `${weightPath}: a jumprelu SAE needs "threshold" (or "log_threshold") [d_sae]; found ${tensorSummary(archive.tensors)}`
        )
      activation = { kind: 'jumprelu', threshold, relu: true }
    }
    const applyBDec = cfg.apply_b_dec_to_input === undefined ? true : cfg.apply_b_dec_to_input === true
    const layer = saelensLayerOf(cfg.hook_name)
    return {
      source: dir,
      format: 'saelens',
      architecture: `SAELens ${arch}`,
      hash: hashFiles([weightPath, configPath]),
      name: basename(dir),
      ...tensors,
      layer,
      activation,
      inputNorm: 'none',
      preBias: applyBDec ? decBias.slice() : new Float32Array(dIn),
      featureScale: ones(dSae),
      notes:
        layer === undefined
          ? [`hook "${String(cfg.hook_name)}" does not name an ESM2 layer: pass --sae-layer`]
          : undefined
    }
  } finally {
    archive.close()
  }
}
