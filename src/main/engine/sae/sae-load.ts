/**
 * `loadSae(path)`: reads an SAE in any registered format (sae-formats.ts) into the canonical `SaeWeights`
 * (sae-weights.ts). `path` may be a file or a folder; a folder holding several SAEs (InterProt's hub
 * repository, InterPLM's top folder, a dictionary_learning run) asks which one (`file`, i.e. `--sae-file`),
 * unless the layer wanted picks exactly one. When no provider recognises the path, the error lists what each
 * one looked for and what it found. Weights with NaN or Inf are refused.
 *
 * `saeLayerFor(sae, model, requested)` is the one place that checks an SAE against a model: input width,
 * and which layer it reads (from the SAE's files, or `requested` when they do not say; both must agree).
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { probeSae } from './sae-formats'
import { assertFiniteSae } from './sae-math'
import type { SaeChoice, SaeLoadOptions } from './sae-provider'
import type { SaeWeights } from './sae-weights'

export interface LoadSaeOptions extends SaeLoadOptions {
  /** In a folder holding several SAEs: which one (its path relative to the folder; `--sae-file`). */
  file?: string
}

/** What a path holds: one SAE (`choices` empty) of a format, or a folder of several to choose from. */
export interface SaeInspection {
  format: string
  choices: SaeChoice[]
}

function noMatch(path: string): Error {
  const lines = probeSae(path).map(
    ({ provider, probe }) => `  - ${provider.name}: looks for ${provider.files.replace(/`/g, '')}; found ${probe.found}`
  )
  return new Error(
    `${path}: not a recognised SAE. What each format looked for, and what it found:\n${lines.join('\n')}\nConvert the SAE to the generic layout (sae.json + sae.safetensors) if its format is not listed.`
  )
}

/** The SAEs a path holds (several for a folder of them), without loading any; throws when none is recognised. */
export function inspectSae(path: string): SaeInspection {
  if (!existsSync(path)) throw new Error(`${path}: no such file or folder`)
  const [best] = probeSae(path)
  if (best.probe.confidence <= 0) throw noMatch(path)
  return { format: best.provider.id, choices: best.probe.choices ?? [] }
}

export async function loadSae(path: string, opts: LoadSaeOptions = {}): Promise<SaeWeights> {
  const target = opts.file ? join(path, opts.file) : path
  if (!existsSync(target)) {
    throw new Error(
      `${target}: no such file or folder (expected an SAE file or folder${opts.file ? `; --sae-file is relative to ${path}` : ''})`
    )
  }
  const [best] = probeSae(target)
  if (best.probe.confidence <= 0) throw noMatch(target)
  const choices = best.probe.choices ?? []
  if (choices.length > 0) {
    const byLayer = opts.layer === undefined ? [] : choices.filter(c => c.layer === opts.layer)
    if (byLayer.length === 1 || choices.length === 1)
      return loadSae(byLayer[0]?.path ?? choices[0].path, { ...opts, file: undefined })
    const layers = [...new Set(choices.map(c => c.layer).filter((l): l is number => l !== undefined))]
    if (opts.layer !== undefined && layers.length > 0 && byLayer.length === 0) {
      throw new Error(`${target}: no SAE for layer ${opts.layer} here; there are layers ${layers.join(', ')}`)
    }
    const list = (byLayer.length > 1 ? byLayer : choices).map(
      c => `${c.file}${c.layer !== undefined ? ` (layer ${c.layer})` : ''}`
    )
    throw new Error(
      `${target}: this ${best.provider.name} folder holds ${choices.length} SAEs${layers.length > 0 ? ` for layers ${layers.join(', ')}` : ''}; choose one ` +
        `(--sae-file NAME${layers.length > 0 ? ' or --sae-layer N' : ''}, or pass its path): ${list.join(', ')}`
    )
  }
  const sae = best.provider.load(target, opts)
  assertFiniteSae(sae, target)
  return sae
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
    throw new Error(
      `SAE ${sae.name} was trained on layer ${sae.layer} (its files say so), but layer ${requested} was requested; drop the layer option or pass ${sae.layer}`
    )
  }
  const layer = requested ?? sae.layer
  if (layer === undefined) {
    throw new Error(
      `SAE ${sae.name} (${sae.source}) does not say which layer it reads; pass it (--sae-layer N, HF hidden_states numbering: 0 = embeddings), or run plm-sae check-sae to find the layer it fits best`
    )
  }
  if (!Number.isInteger(layer) || layer < 0 || layer > model.numLayers) {
    throw new Error(
      `SAE ${sae.name} reads layer ${layer}, but ${model.name} has layers 0 (embeddings) to ${model.numLayers}`
    )
  }
  return layer
}
