/**
 * InterProt's SAEs (github.com/etowahadams/interprot, `interprot/sae_model.py` SparseAutoencoder; hub
 * `liambai/InterProt-ESM2-SAEs`): one safetensors file per SAE, named `esm2_plm<d>_l<layer>_sae<n>[...].safetensors`
 * (e.g. `esm2_plm1280_l24_sae4096_100k.safetensors`, or `..._k64_auxk640` in training runs), holding
 *
 *   w_enc [d, n], w_dec [n, d], b_enc [n], b_pre [d], stats_last_nonzero [n] (training bookkeeping, ignored)
 *
 * and no config: d, the layer and the width come from the file name and are checked against the shapes.
 * For each token row x:
 *   x' = (x − mean(x)) / (std(x) + 1e-5)          (torch .std: unbiased, n − 1)
 *   f  = relu(topk_k((x' − b_pre) · w_enc + b_enc))  (the k largest kept, the rest 0)
 *   x̂  = (f · w_dec + b_pre) · std(x) + mean(x)
 * k is not stored: `--sae-k` wins, else `_k<k>` in the file name, else the library entry's k, else the
 * authors' loader default (128); the SAE's notes say which was used.
 * Layer: `l<layer>` is fair-esm's `repr_layers` index, which counts like HF hidden_states (0 = embeddings).
 */
import { basename, join } from 'node:path'
import { openSafetensors } from '../formats/safetensors'
import {
  isDir,
  isFile,
  listDir,
  NOT_THIS,
  peekTensors,
  type SaeChoice,
  type SaeFormatProvider,
  type SaeLoadOptions,
  type SaeProbe
} from './sae-provider'
import type { SaeWeights } from './sae-weights'
import { hashFiles, ShapeContext } from './sae-tensors'

/** The authors' loader default when k is not given. */
export const INTERPROT_DEFAULT_K = 128

const REQUIRED = ['w_enc', 'w_dec', 'b_enc', 'b_pre'] as const

export interface InterprotName {
  dIn: number
  layer: number
  dSae: number
  k?: number
}

/** d, layer, width (and k when present) from an InterProt file name, or undefined. */
export function parseInterprotName(file: string): InterprotName | undefined {
  const m = /esm2_plm(\d+)_l(\d+)_sae(\d+)(?:_k(\d+))?/.exec(basename(file))
  if (!m) return undefined
  return {
    dIn: Number(m[1]),
    layer: Number(m[2]),
    dSae: Number(m[3]),
    k: m[4] === undefined ? undefined : Number(m[4])
  }
}

function probeFile(file: string): SaeProbe {
  if (!file.endsWith('.safetensors')) return NOT_THIS
  const { tensors, error, found: shapes } = peekTensors(file)
  if (tensors === undefined) return { confidence: 0, found: `${basename(file)}: ${error}` }
  const found = `${basename(file)}: ${shapes}`
  const present = REQUIRED.filter(n => tensors.has(n)).length
  if (present === 0) return { confidence: 0, found }
  const named = parseInterprotName(file) !== undefined
  return { confidence: present === REQUIRED.length ? (named ? 1 : 0.8) : 0.3, found }
}

function choicesIn(dir: string): SaeChoice[] {
  return listDir(dir)
    .filter(n => n.endsWith('.safetensors') && parseInterprotName(n) !== undefined)
    .map(n => ({ path: join(dir, n), file: n, layer: parseInterprotName(n)?.layer }))
    .sort((a, b) => (a.layer ?? 0) - (b.layer ?? 0) || a.file.localeCompare(b.file))
}

export const interprotProvider: SaeFormatProvider = {
  id: 'interprot',
  name: 'InterProt',
  origin: 'github.com/etowahadams/interprot (hub liambai/InterProt-ESM2-SAEs)',
  files: '`esm2_plm<d>_l<layer>_sae<n>[_k<k>…].safetensors` (w_enc, w_dec, b_enc, b_pre)',
  architectures: 'top-k + ReLU on standardised rows (k from the name, the library, or 128; `--sae-k` overrides)',
  probe(path: string): SaeProbe {
    if (isFile(path)) return probeFile(path)
    if (!isDir(path)) return NOT_THIS
    const choices = choicesIn(path)
    if (choices.length === 1) return probeFile(choices[0].path)
    if (choices.length > 1) return { confidence: 1, found: `${choices.length} InterProt files`, choices }
    return { confidence: 0, found: 'no esm2_plm<d>_l<layer>_sae<n>*.safetensors' }
  },
  load(path: string, opts: SaeLoadOptions): SaeWeights {
    const file = isDir(path) ? choicesIn(path)[0]?.path : path
    if (file === undefined)
      throw new Error(`${path}: no InterProt SAE file (esm2_plm<d>_l<layer>_sae<n>*.safetensors) here`)
    return loadInterprotSae(file, opts)
  }
}

export function loadInterprotSae(file: string, opts: SaeLoadOptions = {}): SaeWeights {
  const named = parseInterprotName(file)
  const archive = openSafetensors(file)
  try {
    const ctx = new ShapeContext(
      archive,
      'InterProt (w_enc/w_dec/b_enc/b_pre)',
      { d_in: named?.dIn, d_sae: named?.dSae },
      'the file name (esm2_plm<d>_l<layer>_sae<n>)'
    )
    const encWeight = ctx.read('w_enc', ['d_in', 'd_sae'])
    const decWeight = ctx.read('w_dec', ['d_sae', 'd_in'])
    const encBias = ctx.read('b_enc', ['d_sae'])
    const preBias = ctx.read('b_pre', ['d_in'])
    const dSae = ctx.size('d_sae')
    let k: number
    let kFrom: string
    if (opts.k !== undefined) [k, kFrom] = [opts.k, 'given with --sae-k']
    else if (named?.k !== undefined) [k, kFrom] = [named.k, `from the file name (_k${named.k})`]
    else if (opts.libraryK !== undefined) [k, kFrom] = [opts.libraryK, 'from the model library entry']
    else
      [k, kFrom] = [
        INTERPROT_DEFAULT_K,
        `the InterProt loader's default (the file does not store k; pass --sae-k to change it)`
      ]
    if (!Number.isInteger(k) || k < 1) throw new Error(`${file}: k must be a positive integer, found ${k}`)
    const notes = [`k = ${k}: ${kFrom}`]
    if (named === undefined)
      notes.push('the file name does not follow esm2_plm<d>_l<layer>_sae<n>: the layer is unknown')
    return {
      source: file,
      format: 'interprot',
      architecture: 'InterProt SparseAutoencoder (top-k)',
      hash: hashFiles([file]),
      name: basename(file).replace(/\.safetensors$/, ''),
      dIn: ctx.size('d_in'),
      dSae,
      layer: named?.layer,
      activation: { kind: 'topk', k: Math.min(k, dSae), relu: true },
      inputNorm: 'standardize',
      preBias,
      encWeight,
      encBias,
      featureScale: new Float32Array(dSae).fill(1),
      decWeight,
      decBias: preBias.slice(),
      notes
    }
  } finally {
    archive.close()
  }
}
