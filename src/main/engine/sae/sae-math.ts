/**
 * Exact JavaScript SAE encode/decode on the canonical `SaeWeights` (see sae-weights.ts for the formulas).
 * Dot products accumulate in float64; results are float32. Used for steering (splicing a clamped
 * reconstruction into the model), for checks, and wherever a few rows are needed without an ONNX session.
 * Bulk extraction runs in ONNX instead (sae-graph.ts, latent-extractor.ts).
 */
import type { SaeWeights } from './sae-weights'

/** Norm floor used when scaling inputs to norm √dIn (InterPLM clamps the norm at 1e-8). */
export const MIN_INPUT_NORM = 1e-8

function checkLength(what: string, actual: number, expected: number): void {
  if (actual < expected) {
    throw new Error(`SAE math: ${what} has ${actual} values, expected at least ${expected}`)
  }
}

/**
 * The per-row input scale s ([rows]): sqrt(dIn) / max(||x_r||, 1e-8) when the SAE normalizes its inputs
 * to norm √dIn, else 1. Encode multiplies the input by s; decode divides the reconstruction by s.
 */
export function inputScales(sae: SaeWeights, x: Float32Array, rows: number): Float32Array {
  const { dIn } = sae
  checkLength('x', x.length, rows * dIn)
  const s = new Float32Array(rows).fill(1)
  if (!sae.normalizeToSqrtD) return s
  const sqrtD = Math.sqrt(dIn)
  for (let r = 0; r < rows; r++) {
    let sum = 0
    const base = r * dIn
    for (let i = 0; i < dIn; i++) sum += x[base + i] * x[base + i]
    s[r] = sqrtD / Math.max(Math.sqrt(sum), MIN_INPUT_NORM)
  }
  return s
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

/**
 * Encodes `rows` input rows x ([rows, dIn], row-major) into features f ([rows, dSae]):
 * f = act((x·s − preBias) · encWeight + encBias) ⊙ featureScale. `scales` are the per-row s (computed
 * from x with `inputScales` when omitted).
 */
export function encodeRows(sae: SaeWeights, x: Float32Array, rows: number, scales?: Float32Array): Float32Array {
  const { dIn, dSae, encWeight, encBias, preBias, featureScale, activation } = sae
  checkLength('x', x.length, rows * dIn)
  const s = scales ?? inputScales(sae, x, rows)
  checkLength('scales', s.length, rows)
  const out = new Float32Array(rows * dSae)
  const acc = new Float64Array(dSae)
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < dSae; j++) acc[j] = encBias[j]
    const xb = r * dIn
    const sr = s[r]
    for (let i = 0; i < dIn; i++) {
      const xi = x[xb + i] * sr - preBias[i]
      if (xi === 0) continue
      const wb = i * dSae
      for (let j = 0; j < dSae; j++) acc[j] += xi * encWeight[wb + j]
    }
    const ob = r * dSae
    if (activation.kind === 'relu') {
      for (let j = 0; j < dSae; j++) if (acc[j] > 0) out[ob + j] = acc[j] * featureScale[j]
    } else if (activation.kind === 'topk') {
      const mask = topKMask(acc, activation.k)
      for (let j = 0; j < dSae; j++) if (mask[j] === 1 && acc[j] > 0) out[ob + j] = acc[j] * featureScale[j]
    } else {
      const t = activation.threshold
      for (let j = 0; j < dSae; j++) if (acc[j] > t[j]) out[ob + j] = acc[j] * featureScale[j]
    }
  }
  return out
}

/**
 * Decodes features f ([rows, dSae]) into reconstructions x̂ ([rows, dIn]): (f · decWeight + decBias) / s.
 * Pass the `scales` of the rows the features came from when the SAE normalizes its inputs (otherwise s = 1).
 * Zero features are skipped, so sparse rows decode fast.
 */
export function decodeRows(sae: SaeWeights, f: Float32Array, rows: number, scales?: Float32Array): Float32Array {
  const { dIn, dSae, decWeight, decBias } = sae
  checkLength('f', f.length, rows * dSae)
  if (scales !== undefined) checkLength('scales', scales.length, rows)
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
    const sr = scales === undefined ? 1 : scales[r]
    const ob = r * dIn
    for (let i = 0; i < dIn; i++) out[ob + i] = acc[i] / sr
  }
  return out
}
