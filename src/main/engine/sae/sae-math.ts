/**
 * Exact JavaScript SAE encode/decode on the canonical `SaeWeights` (see sae-weights.ts for the formulas).
 * Dot products accumulate in float64; results are float32. Used for steering (splicing a clamped
 * reconstruction into the model), for the fit check, and wherever a few rows are needed without an ONNX
 * session. Bulk extraction runs in ONNX instead (sae-graph.ts, latent-extractor.ts).
 */
import { STANDARDIZE_EPS, type SaeWeights } from './sae-weights'
import { assertFiniteWeights } from '../formats/tensor-check'

/** Norm floor used when scaling inputs to norm √dIn (InterPLM clamps the norm at 1e-8). */
export const MIN_INPUT_NORM = 1e-8

function checkLength(what: string, actual: number, expected: number): void {
  if (actual < expected) {
    throw new Error(`SAE math: ${what} has ${actual} values, expected at least ${expected}`)
  }
}

/**
 * The per-row input normalisation of `rows` rows: encode uses (x − shift)·scale, decode multiplies the
 * reconstruction by outScale and adds shift back (sae-weights.ts).
 */
export interface RowNorms {
  shift: Float32Array
  scale: Float32Array
  outScale: Float32Array
}

export function rowNorms(sae: Pick<SaeWeights, 'dIn' | 'inputNorm'>, x: Float32Array, rows: number): RowNorms {
  const { dIn } = sae
  checkLength('x', x.length, rows * dIn)
  const shift = new Float32Array(rows)
  const scale = new Float32Array(rows).fill(1)
  const outScale = new Float32Array(rows).fill(1)
  if (sae.inputNorm === 'sqrt-d') {
    const sqrtD = Math.sqrt(dIn)
    for (let r = 0; r < rows; r++) {
      let sum = 0
      const base = r * dIn
      for (let i = 0; i < dIn; i++) sum += x[base + i] * x[base + i]
      const s = sqrtD / Math.max(Math.sqrt(sum), MIN_INPUT_NORM)
      scale[r] = s
      outScale[r] = 1 / s
    }
  } else if (sae.inputNorm === 'standardize') {
    for (let r = 0; r < rows; r++) {
      const base = r * dIn
      let mean = 0
      for (let i = 0; i < dIn; i++) mean += x[base + i]
      mean /= dIn
      let ss = 0
      for (let i = 0; i < dIn; i++) ss += (x[base + i] - mean) ** 2
      const std = Math.sqrt(ss / Math.max(1, dIn - 1))
      shift[r] = mean
      scale[r] = 1 / (std + STANDARDIZE_EPS)
      outScale[r] = std
    }
  }
  return { shift, scale, outScale }
}

/** Indices of the k largest values of z (ties: the lower index first), as a mask. */
function topKMask(z: Float64Array, k: number): Uint8Array {
  const n = z.length
  const mask = new Uint8Array(n)
  if (k >= n) return mask.fill(1)
  if (k <= 0) return mask
  const order = new Uint32Array(n)
  for (let j = 0; j < n; j++) order[j] = j
  order.sort((a, b) => z[b] - z[a] || a - b)
  for (let i = 0; i < k; i++) mask[order[i]] = 1
  return mask
}

/** The activation of feature j with pre-activation z, before featureScale (relu and jumprelu only). */
export function activateOne(sae: Pick<SaeWeights, 'activation'>, j: number, z: number): number {
  const a = sae.activation
  if (a.kind === 'relu') return z > 0 ? z : 0
  if (a.kind === 'jumprelu') return z > a.threshold[j] && (!a.relu || z > 0) ? z : 0
  throw new Error('internal: top-k activations depend on every feature; use encodeRows')
}

/**
 * Encodes `rows` input rows x ([rows, dIn], row-major) into features f ([rows, dSae]) with the canonical
 * formula. `norms` are the rows' normalisation (computed from x with `rowNorms` when omitted).
 */
export function encodeRows(sae: SaeWeights, x: Float32Array, rows: number, norms?: RowNorms): Float32Array {
  const { dIn, dSae, encWeight, encBias, preBias, featureScale, activation } = sae
  checkLength('x', x.length, rows * dIn)
  const n = norms ?? rowNorms(sae, x, rows)
  checkLength('norms', n.scale.length, rows)
  const out = new Float32Array(rows * dSae)
  const acc = new Float64Array(dSae)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dSae; j++) acc[j] = encBias[j]
    const xb = r * dIn
    const sr = n.scale[r]
    const mr = n.shift[r]
    for (let i = 0; i < dIn; i++) {
      const xi = (x[xb + i] - mr) * sr - preBias[i]
      if (xi === 0) continue
      const wb = i * dSae
      for (let j = 0; j < dSae; j++) acc[j] += xi * encWeight[wb + j]
    }
    const ob = r * dSae
    if (activation.kind === 'topk') {
      const mask = topKMask(acc, activation.k)
      for (let j = 0; j < dSae; j++)
        if (mask[j] === 1 && (!activation.relu || acc[j] > 0)) out[ob + j] = acc[j] * featureScale[j]
    } else {
      for (let j = 0; j < dSae; j++) {
        const v = activateOne(sae, j, acc[j])
        if (v !== 0) out[ob + j] = v * featureScale[j]
      }
    }
  }
  return out
}

/**
 * Decodes features f ([rows, dSae]) into reconstructions x̂ ([rows, dIn]): (f · decWeight + decBias) ·
 * outScale + shift. Pass the `norms` of the rows the features came from when the SAE normalizes its inputs
 * (otherwise none is applied). Zero features are skipped, so sparse rows decode fast.
 */
export function decodeRows(sae: SaeWeights, f: Float32Array, rows: number, norms?: RowNorms): Float32Array {
  const { dIn, dSae, decWeight, decBias } = sae
  checkLength('f', f.length, rows * dSae)
  if (norms !== undefined) checkLength('norms', norms.scale.length, rows)
  const out = new Float32Array(rows * dIn)
  const acc = new Float64Array(dIn)
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < dIn; i++) acc[i] = decBias[i]
    const fb = r * dSae
    for (let j = 0; j < dSae; j++) {
      const fj = f[fb + j]
      if (fj === 0) continue
      const wb = j * dIn
      for (let i = 0; i < dIn; i++) acc[i] += fj * decWeight[wb + i]
    }
    const os = norms === undefined ? 1 : norms.outScale[r]
    const sh = norms === undefined ? 0 : norms.shift[r]
    const ob = r * dIn
    for (let i = 0; i < dIn; i++) out[ob + i] = acc[i] * os + sh
  }
  return out
}

/** Refuses an SAE whose arrays hold NaN or infinite values, naming the array (formats/tensor-check.ts, as for models). */
export function assertFiniteSae(sae: SaeWeights, source: string): void {
  const arrays: [string, Float32Array][] = [
    ['preBias', sae.preBias],
    ['encWeight', sae.encWeight],
    ['encBias', sae.encBias],
    ['featureScale', sae.featureScale],
    ['decWeight', sae.decWeight],
    ['decBias', sae.decBias]
  ]
  if (sae.activation.kind === 'jumprelu') arrays.push(['threshold', sae.activation.threshold])
  for (const [name, a] of arrays) assertFiniteWeights(a, name, source)
}
