/**
 * `loadSae(path)`: reads an SAE in any supported format into the canonical `SaeWeights` (sae-weights.ts).
 *
 * What `path` may be:
 *   - a folder with `sae.json` + `sae.safetensors`         → the generic layout (sae-generic.ts)
 *   - a folder with `config.json` + `model.safetensors` or `pytorch_model.bin` → the preprint's format (sae-preprint.ts)
 *   - an InterPLM `.pt` file, a `layer_N` folder holding `ae_normalized.pt` / `ae_unnormalized.pt`, or
 *     InterPLM's top folder (with `layer_1`, `layer_2`, ... inside; pick one with `layer`) → sae-interplm.ts
 *
 * `saeLayerFor(sae, model, requested)` is the one place that checks an SAE against a model: input width,
 * and which layer it reads (from the SAE's files, or `requested` when they do not say; both must agree).
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { isGenericDir, loadGenericSae } from './sae-generic'
import { INTERPLM_FILES, interplmLayerOf, loadInterplmSae } from './sae-interplm'
import { isPreprintDir, loadPreprintSae } from './sae-preprint'
import type { SaeWeights } from './sae-weights'

export interface LoadSaeOptions {
  /** For InterPLM's top folder: which `layer_N` to load. */
  layer?: number
  /** For an InterPLM folder holding both files: which one (default 'normalized'). */
  interplmVariant?: 'normalized' | 'unnormalized'
}

function interplmFileIn(dir: string, variant: 'normalized' | 'unnormalized'): string | undefined {
  const preferred = variant === 'normalized' ? INTERPLM_FILES : [...INTERPLM_FILES].reverse()
  return preferred.map((f) => join(dir, f)).find((p) => existsSync(p))
}

export async function loadSae(path: string, opts: LoadSaeOptions = {}): Promise<SaeWeights> {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder (expected an SAE folder or an InterPLM .pt file)`)
  if (statSync(path).isFile()) {
    if (path.endsWith('.pt') || path.endsWith('.pth')) return loadInterplmSae(path)
    throw new Error(`${path}: pass the SAE's folder, not one of its files (only InterPLM .pt files are accepted on their own)`)
  }
  if (isGenericDir(path)) return loadGenericSae(path)
  if (isPreprintDir(path)) return loadPreprintSae(path)
  const variant = opts.interplmVariant ?? 'normalized'
  const direct = interplmFileIn(path, variant)
  if (direct) return loadInterplmSae(direct)
  const layers = readdirSync(path)
    .filter((n) => interplmLayerOf(n) !== undefined && statSync(join(path, n)).isDirectory() && interplmFileIn(join(path, n), variant) !== undefined)
    .map((n) => interplmLayerOf(n) as number)
    .sort((a, b) => a - b)
  if (layers.length > 0) {
    if (opts.layer === undefined) {
      throw new Error(`${path}: this InterPLM folder holds SAEs for layers ${layers.join(', ')}; choose one (--sae-layer N), or pass ${join(path, `layer_${layers[0]}`)}`)
    }
    if (!layers.includes(opts.layer)) throw new Error(`${path}: no SAE for layer ${opts.layer} here; there are layers ${layers.join(', ')}`)
    return loadInterplmSae(interplmFileIn(join(path, `layer_${opts.layer}`), variant) as string)
  }
  throw new Error(
    `${path}: not a recognised SAE folder. Expected sae.json + sae.safetensors (generic), config.json + model.safetensors/pytorch_model.bin ` +
      '(the preprint\'s format), or InterPLM\'s ae_normalized.pt / ae_unnormalized.pt (or layer_N folders holding them)'
  )
}

/** What `saeLayerFor` needs to know of the model. */
export interface ModelShape {
  name: string
  hiddenSize: number
  numLayers: number
}

/**
 * The model layer the SAE reads, after checking that it fits the model. `requested` (e.g. --sae-layer)
 * is needed when the SAE's files do not name a layer, and must agree with them when they do.
 */
export function saeLayerFor(sae: SaeWeights, model: ModelShape, requested?: number): number {
  if (sae.dIn !== model.hiddenSize) {
    throw new Error(
      `SAE ${sae.name} (${sae.source}) reads vectors of width ${sae.dIn}, but ${model.name} has hidden size ${model.hiddenSize}: ` +
        'this SAE was trained on another model; use the ESM2 model it was trained on'
    )
  }
  if (requested !== undefined && sae.layer !== undefined && requested !== sae.layer) {
    throw new Error(`SAE ${sae.name} was trained on layer ${sae.layer} (its files say so), but layer ${requested} was requested; drop the layer option or pass ${sae.layer}`)
  }
  const layer = requested ?? sae.layer
  if (layer === undefined) throw new Error(`SAE ${sae.name} (${sae.source}) does not say which layer it reads; pass it (--sae-layer N, HF hidden_states numbering: 0 = embeddings)`)
  if (!Number.isInteger(layer) || layer < 0 || layer > model.numLayers) {
    throw new Error(`SAE ${sae.name} reads layer ${layer}, but ${model.name} has layers 0 (embeddings) to ${model.numLayers}`)
  }
  return layer
}
