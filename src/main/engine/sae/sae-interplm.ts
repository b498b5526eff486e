/**
 * InterPLM's SAEs (github.com/ElanaPearl/InterPLM, hub `Elana/InterPLM-esm2-8m` / `-650m`):
 * `layer_N/ae_normalized.pt` and `layer_N/ae_unnormalized.pt`, PyTorch zip pickles of a state dict of one of
 * the classes of `interplm/sae/dictionary.py` (ReLUSAE, ReLUSAE_Tied, TopKSAE, BatchTopKSAE, JumpReLUSAE with
 * its current names or the old W_enc/W_dec ones): the tensors and formulas are in sae-dictionary.ts.
 *
 * The normalized form (`ae_normalized.pt`, and any file whose name does not contain `unnormalized`) reports
 * features divided by `activation_rescale_factor` (each feature's max over InterPLM's data is 1); a factor
 * of 0 (a feature that never fired there) reports 0. With `normalize_to_sqrt_d` the input row is scaled to
 * norm √d first and the reconstruction scaled back (`unnormalize=True`).
 *
 * Layer: InterPLM names the folder after the ESM2 layer it reads, counted like HF hidden_states
 * (layer_1 .. layer_6 for the 8M model: the output of block N), so layer = N.
 *
 * What a path may be: a `.pt` file; a `layer_N` folder (the normalized file unless asked otherwise); the top
 * folder holding `layer_N` folders (one SAE per layer: a choice, picked by the layer wanted).
 */
import { basename, dirname, join } from 'node:path'
import { openTorchCheckpoint } from '../formats/torch-checkpoint'
import { DICTIONARY_TENSORS, dictionaryClassOf, readDictionary } from './sae-dictionary'
import { has, isDir, isFile, listDir, NOT_THIS, peekTensors, tensorSummary } from './sae-provider'
import type { SaeChoice, SaeFormatProvider, SaeLoadOptions, SaeProbe } from './sae-provider'
import type { SaeWeights } from './sae-weights'
import { hashFiles } from './sae-tensors'

export const INTERPLM_FILES = ['ae_normalized.pt', 'ae_unnormalized.pt'] as const

/** N of a `layer_N` folder name, or undefined. */
export function interplmLayerOf(folder: string): number | undefined {
  const m = /^layer_(\d+)$/.exec(basename(folder))
  return m ? Number(m[1]) : undefined
}

function fileIn(dir: string, variant: 'normalized' | 'unnormalized' = 'normalized'): string | undefined {
  const preferred = variant === 'normalized' ? INTERPLM_FILES : [...INTERPLM_FILES].reverse()
  return preferred.map(f => join(dir, f)).find(p => isFile(p))
}

function probeFile(file: string): SaeProbe {
  if (!file.endsWith('.pt') && !file.endsWith('.pth')) return NOT_THIS
  // dictionary_learning's ae.pt next to its config.json belongs to that provider
  if (basename(file) === 'ae.pt' && has(dirname(file), 'config.json'))
    return { confidence: 0.2, found: `${basename(file)} next to config.json (a dictionary_learning save)` }
  const { tensors, error, found: shapes } = peekTensors(file)
  if (tensors === undefined) return { confidence: 0, found: `${basename(file)}: ${error}` }
  const cls = dictionaryClassOf(tensors, /batch/i.test(basename(file)))
  const found = `${basename(file)}: ${shapes}`
  if (cls === undefined) return { confidence: 0, found }
  return {
    confidence: INTERPLM_FILES.includes(basename(file) as (typeof INTERPLM_FILES)[number]) ? 1 : 0.8,
    found: `${found} (${cls})`
  }
}

function layerChoices(dir: string): SaeChoice[] {
  return listDir(dir)
    .filter(n => interplmLayerOf(n) !== undefined && isDir(join(dir, n)) && fileIn(join(dir, n)) !== undefined)
    .map(n => ({ path: join(dir, n), file: n, layer: interplmLayerOf(n) }))
    .sort((a, b) => (a.layer ?? 0) - (b.layer ?? 0))
}

export const interplmProvider: SaeFormatProvider = {
  id: 'interplm',
  name: 'InterPLM',
  origin: 'github.com/ElanaPearl/InterPLM (hub Elana/InterPLM-esm2-8m, -650m)',
  files: '`layer_N/ae_normalized.pt` / `ae_unnormalized.pt` (or any `.pt` of its dictionary classes)',
  architectures:
    'ReLU (normalised / unnormalised, with or without √d scaling), ReLU tied, TopK, BatchTopK, JumpReLU (current and old tensor names)',
  hubFolder: (names, folder) =>
    names.has('ae_normalized.pt') || names.has('ae_unnormalized.pt') ? { layer: interplmLayerOf(folder) } : undefined,
  probe(path: string): SaeProbe {
    if (isFile(path)) return probeFile(path)
    if (!isDir(path)) return NOT_THIS
    const direct = fileIn(path)
    if (direct) return probeFile(direct)
    const choices = layerChoices(path)
    if (choices.length > 0)
      return { confidence: 1, found: `layer folders ${choices.map(c => c.file).join(', ')}`, choices }
    const pts = listDir(path).filter(n => n.endsWith('.pt'))
    return {
      confidence: 0,
      found:
        pts.length > 0
          ? `${pts.join(', ')} (not ae_normalized.pt / ae_unnormalized.pt)`
          : 'no ae_normalized.pt, ae_unnormalized.pt or layer_N folders'
    }
  },
  load(path: string, opts: SaeLoadOptions): SaeWeights {
    const file = isDir(path) ? fileIn(path, opts.interplmVariant) : path
    if (file === undefined) throw new Error(`${path}: no ${INTERPLM_FILES.join(' or ')} here`)
    return loadInterplmSae(file)
  }
}

export function loadInterplmSae(file: string): SaeWeights {
  const ckpt = openTorchCheckpoint(file)
  try {
    const cls = dictionaryClassOf(ckpt.tensors, /batch/i.test(basename(file)))
    if (cls === undefined)
      throw new Error(
        `${file}: not one of InterPLM's SAE classes; it holds ${tensorSummary(ckpt.tensors)}; InterPLM's classes need ${DICTIONARY_TENSORS}`
      )
    const parts = readDictionary(ckpt, cls, {
      normalizedForm: !/unnormalized/i.test(basename(file)),
      formatName: 'InterPLM'
    })
    const folder = dirname(file)
    const notes =
      cls === 'TopKSAE'
        ? [
            'TopKSAE and BatchTopKSAE store the same tensors; read as TopKSAE (top-k per row). A file whose name contains "batch" is read as BatchTopKSAE (its threshold).'
          ]
        : undefined
    return {
      ...parts,
      architecture: `InterPLM ${cls}`,
      source: file,
      format: 'interplm',
      hash: hashFiles([file]),
      name: `${basename(dirname(folder))}/${basename(folder)}/${basename(file)}`.replace(/^\.?\//, ''),
      layer: interplmLayerOf(folder),
      notes
    }
  } finally {
    ckpt.close()
  }
}
