/**
 * `SteeredModel`: ESM2 with an SAE intervention spliced in at the SAE's layer L. The forward is split in
 * two ONNX graphs of the same model: tokens → hidden state at layer L, then (after the intervention, in JS)
 * `Esm2Model.runBatch(tokens, {logits}, {from: L, hiddenIn})` for blocks L+1.. and the LM head. The hidden
 * state is small ([T, hidden], 300 × 320 floats for a 300-residue protein on the 8M model), so the round trip
 * through JS costs far less than the blocks themselves, and only clamped features are computed.
 */
import type { Esm2Model } from '../esm/esm2-model'
import { saeLayerFor } from '../sae/sae-load'
import type { SaeWeights } from '../sae/sae-weights'
import { FeatureIntervention } from './intervention'

export interface BatchLimits {
  /** Upper bound on batch × padded length (tokens) per ONNX run. */
  maxBatchTokens: number
  maxBatchSize: number
}

export const STEER_BATCHING: BatchLimits = { maxBatchTokens: 4096, maxBatchSize: 32 }

/** The SAE's layer for a model (the override, else the SAE's own), checked against the model's shape by `saeLayerFor`. */
export function steeringLayer(model: Esm2Model, sae: SaeWeights, override?: number): number {
  const c = model.config
  return saeLayerFor(sae, { name: model.imported.name, hiddenSize: c.hiddenSize, numLayers: c.numLayers }, override)
}

/** Splits items into batches under the token and size limits (items are not reordered). */
export function batchesOf<T extends { length: number }>(items: T[], limits: BatchLimits): T[][] {
  const out: T[][] = []
  let cur: T[] = []
  let longest = 0
  for (const it of items) {
    const l = Math.max(longest, it.length)
    if (cur.length > 0 && (cur.length + 1 > limits.maxBatchSize || (cur.length + 1) * l > limits.maxBatchTokens)) {
      out.push(cur)
      cur = []
      longest = 0
    }
    cur.push(it)
    longest = Math.max(longest, it.length)
  }
  if (cur.length > 0) out.push(cur)
  return out
}

export class SteeredModel {
  readonly layer: number

  constructor(
    readonly model: Esm2Model,
    readonly sae: SaeWeights,
    layer?: number,
    readonly limits: BatchLimits = STEER_BATCHING
  ) {
    this.layer = steeringLayer(model, sae, layer)
  }

  private checkLength(tokens: Int32Array): void {
    if (tokens.length - 2 > this.model.window) {
      throw new Error(
        `a sequence of ${tokens.length - 2} residues is longer than the model's window (${this.model.window}); steering runs whole sequences only`
      )
    }
  }

  /** Hidden states at the SAE's layer ([T, hidden] per sequence), unsteered. */
  async hiddenAtLayer(tokens: Int32Array[]): Promise<Float32Array[]> {
    const out: Float32Array[] = []
    for (const batch of batchesOf(tokens, this.limits)) {
      batch.forEach(t => this.checkLength(t))
      const res = await this.model.runBatch(batch, { hidden: [this.layer], logits: false })
      for (const r of res) out.push(r.hidden.get(this.layer)!)
    }
    return out
  }

  /**
   * Steered logits ([T, 33] per sequence): prefix to layer L, the intervention of sequence i
   * (`interventions[i]`, or one for all), the rest of the model from layer L.
   */
  async logits(
    tokens: Int32Array[],
    interventions: FeatureIntervention | FeatureIntervention[]
  ): Promise<Float32Array[]> {
    const pick = (i: number): FeatureIntervention => (Array.isArray(interventions) ? interventions[i] : interventions)
    const out: Float32Array[] = []
    let offset = 0
    for (const batch of batchesOf(tokens, this.limits)) {
      batch.forEach(t => this.checkLength(t))
      const prefix = await this.model.runBatch(batch, { hidden: [this.layer], logits: false })
      const hiddenIn = prefix.map((p, k) => pick(offset + k).apply(p.hidden.get(this.layer)!, batch[k].length))
      const suffix = await this.model.runBatch(batch, { hidden: [], logits: true }, { from: this.layer, hiddenIn })
      for (const s of suffix) out.push(s.logits!)
      offset += batch.length
    }
    return out
  }

  /** Logits of the unsteered model (one graph, tokens → logits). */
  async unsteeredLogits(tokens: Int32Array[]): Promise<Float32Array[]> {
    const out: Float32Array[] = []
    for (const batch of batchesOf(tokens, this.limits)) {
      batch.forEach(t => this.checkLength(t))
      const res = await this.model.runBatch(batch, { hidden: [], logits: true })
      for (const r of res) out.push(r.logits!)
    }
    return out
  }
}
