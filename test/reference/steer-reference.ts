/**
 * Independent float64 reference of a steered ESM2 forward, for the steering tests:
 *   - `referenceForwardFrom`: Hugging Face EsmForMaskedLM from the hidden state at layer L (HF
 *     hidden_states[L]) to the logits, for one unpadded sequence, written from the transformers semantics
 *     with the building blocks of esm2-reference.ts (blocks L..N-1, emb_layer_norm_after, LM head);
 *   - `referenceSteerRow`: the intervention computed literally, h' = decode(clamp(encode(h))) + (h − decode(encode(h))),
 *     with the preprint SAE's own float64 encode/decode (sae-reference.ts).
 */
import {
  applyRotaryInPlace,
  gelu,
  layerNorm,
  linear,
  rotaryTables,
  softmaxInPlace,
  type Esm2ReferenceConfig,
  type WeightMap
} from './esm2-reference'
import { preprintDecode, preprintEncode, type PreprintTensors } from './sae-reference'

function w(weights: WeightMap, name: string): Float32Array | Float64Array {
  const t = weights.get(name)
  if (!t) throw new Error(`missing weight ${name}`)
  return t.data
}

function block(weights: WeightMap, c: Esm2ReferenceConfig, x: Float64Array, T: number, index: number): Float64Array {
  const H = c.hidden
  const hd = H / c.heads
  const p = `esm.encoder.layer.${index}`
  const lin = (v: Float64Array, name: string, i: number, o: number): Float64Array =>
    linear(v, T, i, w(weights, `${p}.${name}.weight`), w(weights, `${p}.${name}.bias`), o)
  const a = layerNorm(
    x,
    T,
    H,
    w(weights, `${p}.attention.LayerNorm.weight`),
    w(weights, `${p}.attention.LayerNorm.bias`),
    c.eps
  )
  const q = lin(a, 'attention.self.query', H, H)
  const k = lin(a, 'attention.self.key', H, H)
  const v = lin(a, 'attention.self.value', H, H)
  for (let i = 0; i < q.length; i++) q[i] *= hd ** -0.5
  const rot = rotaryTables(T, hd)
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < c.heads; h++) {
      applyRotaryInPlace(q, t * H + h * hd, hd, rot, t)
      applyRotaryInPlace(k, t * H + h * hd, hd, rot, t)
    }
  }
  const ctx = new Float64Array(T * H)
  const scores = new Float64Array(T)
  for (let h = 0; h < c.heads; h++) {
    for (let i = 0; i < T; i++) {
      for (let j = 0; j < T; j++) {
        let s = 0
        for (let d = 0; d < hd; d++) s += q[i * H + h * hd + d] * k[j * H + h * hd + d]
        scores[j] = s
      }
      softmaxInPlace(scores, 0, T)
      for (let j = 0; j < T; j++)
        for (let d = 0; d < hd; d++) ctx[i * H + h * hd + d] += scores[j] * v[j * H + h * hd + d]
    }
  }
  const attnOut = lin(ctx, 'attention.output.dense', H, H)
  for (let i = 0; i < attnOut.length; i++) attnOut[i] += x[i]
  const b = layerNorm(attnOut, T, H, w(weights, `${p}.LayerNorm.weight`), w(weights, `${p}.LayerNorm.bias`), c.eps)
  const inter = lin(b, 'intermediate.dense', H, c.ffn).map(gelu)
  const out = lin(inter, 'output.dense', c.ffn, H)
  for (let i = 0; i < out.length; i++) out[i] += attnOut[i]
  return out
}

/** Logits [T * vocab] of the model run from hidden_states[layer] = `hidden` ([T * H]). */
export function referenceForwardFrom(
  weights: WeightMap,
  c: Esm2ReferenceConfig,
  hidden: ArrayLike<number>,
  T: number,
  layer: number
): Float64Array {
  const H = c.hidden
  let x: Float64Array = Float64Array.from(hidden)
  for (let i = layer; i < c.layers; i++) {
    x = block(weights, c, x, T, i)
    if (i === c.layers - 1)
      x = layerNorm(
        x,
        T,
        H,
        w(weights, 'esm.encoder.emb_layer_norm_after.weight'),
        w(weights, 'esm.encoder.emb_layer_norm_after.bias'),
        c.eps
      )
  }
  const emb = weights.get('esm.embeddings.word_embeddings.weight')!
  const vocab = emb.shape[0]
  const d = linear(x, T, H, w(weights, 'lm_head.dense.weight'), w(weights, 'lm_head.dense.bias'), H).map(gelu)
  const n = layerNorm(d, T, H, w(weights, 'lm_head.layer_norm.weight'), w(weights, 'lm_head.layer_norm.bias'), c.eps)
  const dec = weights.has('lm_head.decoder.weight') ? w(weights, 'lm_head.decoder.weight') : emb.data
  return linear(n, T, H, dec, w(weights, 'lm_head.bias'), vocab)
}

export interface RefClamp {
  feature: number
  op: 'set' | 'add'
  value: number
  /** token rows [rowStart, rowEnd) */
  rowStart: number
  rowEnd: number
}

/** The steered hidden state, computed literally row by row (rows outside every clamp are h itself). */
export function referenceSteer(
  sae: PreprintTensors,
  hidden: ArrayLike<number>,
  T: number,
  dIn: number,
  clamps: RefClamp[]
): Float64Array {
  const out = Float64Array.from(hidden)
  for (let r = 0; r < T; r++) {
    const active = clamps.filter(c => r >= c.rowStart && r < c.rowEnd)
    if (active.length === 0) continue
    const h = Float64Array.from({ length: dIn }, (_, i) => hidden[r * dIn + i])
    const f = preprintEncode(sae, h)
    const clamped = f.slice()
    for (const c of active) clamped[c.feature] = c.op === 'set' ? c.value : clamped[c.feature] + c.value
    const recon = preprintDecode(sae, f)
    const steered = preprintDecode(sae, clamped)
    for (let i = 0; i < dIn; i++) out[r * dIn + i] = steered[i] + (h[i] - recon[i])
  }
  return out
}
