/**
 * The steering intervention at the SAE's layer. For a hidden row h with features f = encode(h):
 *
 *   h' = decode(clamp(f)) + (h − decode(f))        (the SAE's reconstruction error is kept)
 *      = h + (clamp(f) − f) · decWeight · outScale  (decode is affine; outScale is the row's output scale)
 *
 * We compute the second form: only the clamped features' values are needed (one encoder column each for
 * ReLU / JumpReLU SAEs; a full encode for TopK, where membership in the top k depends on every feature), and
 * with no clamp (or a clamp that changes nothing) the row is returned bit for bit unchanged. `<cls>`/`<eos>`
 * rows are never touched (the plan's rows start at 1 and end before the last row).
 */
import { activateOne, encodeRows, rowNorms, type RowNorms } from '../sae/sae-math'
import type { SaeWeights } from '../sae/sae-weights'
import type { ResolvedClamp } from './steering-plan'

export class FeatureIntervention {
  /** Distinct features involved, and per feature its encoder column ([dIn]). */
  readonly features: number[]
  private readonly columns: Float64Array[]

  constructor(
    readonly sae: SaeWeights,
    readonly clamps: ResolvedClamp[]
  ) {
    this.features = [...new Set(clamps.map(c => c.feature))]
    const { dIn, dSae, encWeight } = sae
    this.columns = this.features.map(j => {
      const col = new Float64Array(dIn)
      for (let i = 0; i < dIn; i++) col[i] = encWeight[i * dSae + j]
      return col
    })
  }

  get isEmpty(): boolean {
    return this.clamps.length === 0
  }

  /**
   * The natural values of `features` on token rows [0, T) of `hidden` ([T, dIn]): [T, features.length],
   * exactly `encodeRows` restricted to those features. Also returns the rows' input normalisation.
   */
  naturalValues(hidden: Float32Array, T: number, features = this.features): { values: Float32Array; norms: RowNorms } {
    const sae = this.sae
    const { dIn, dSae, preBias, encBias, featureScale, activation } = sae
    const norms = rowNorms(sae, hidden, T)
    const nf = features.length
    const values = new Float32Array(T * nf)
    if (nf === 0) return { values, norms }
    if (activation.kind === 'topk') {
      const full = encodeRows(sae, hidden, T, norms)
      for (let r = 0; r < T; r++) features.forEach((j, k) => (values[r * nf + k] = full[r * dSae + j]))
      return { values, norms }
    }
    const cols = features.map(j => {
      const known = this.features.indexOf(j)
      if (known >= 0) return this.columns[known]
      const col = new Float64Array(dIn)
      for (let i = 0; i < dIn; i++) col[i] = sae.encWeight[i * dSae + j]
      return col
    })
    const xi = new Float64Array(dIn)
    for (let r = 0; r < T; r++) {
      const sr = norms.scale[r]
      const mr = norms.shift[r]
      const base = r * dIn
      for (let i = 0; i < dIn; i++) xi[i] = (hidden[base + i] - mr) * sr - preBias[i]
      for (let k = 0; k < nf; k++) {
        const j = features[k]
        const col = cols[k]
        let acc = encBias[j]
        for (let i = 0; i < dIn; i++) acc += xi[i] * col[i]
        values[r * nf + k] = activateOne(sae, j, acc) * featureScale[j]
      }
    }
    return { values, norms }
  }

  /** h' for every row of one sequence's hidden state ([T, dIn]); returns a new array (the input is not modified). */
  apply(hidden: Float32Array, T: number): Float32Array {
    const out = hidden.slice(0, T * this.sae.dIn)
    if (this.isEmpty) return out
    const { dIn, decWeight } = this.sae
    const rowsTouched = new Uint8Array(T)
    for (const c of this.clamps) {
      if (c.rowEnd > T - 1 || c.rowStart < 1)
        throw new Error(
          `clamp on feature ${c.feature}: token rows ${c.rowStart}-${c.rowEnd - 1} do not fit a sequence of ${T - 2} residues`
        )
      rowsTouched.fill(1, c.rowStart, c.rowEnd)
    }
    const { values, norms } = this.naturalValues(hidden, T)
    const nf = this.features.length
    const fIndex = new Map(this.features.map((j, k) => [j, k]))
    const target = new Float64Array(nf)
    for (let r = 1; r < T - 1; r++) {
      if (!rowsTouched[r]) continue
      for (let k = 0; k < nf; k++) target[k] = values[r * nf + k]
      for (const c of this.clamps) {
        if (r < c.rowStart || r >= c.rowEnd) continue
        const k = fIndex.get(c.feature)!
        target[k] = c.op === 'set' ? c.value : target[k] + c.value
      }
      const base = r * dIn
      const os = norms.outScale[r]
      for (let k = 0; k < nf; k++) {
        const d = target[k] - values[r * nf + k]
        if (d === 0) continue
        const wb = this.features[k] * dIn
        const coef = d * os
        for (let i = 0; i < dIn; i++) out[base + i] += coef * decWeight[wb + i]
      }
    }
    return out
  }
}
