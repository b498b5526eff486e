/**
 * The ESM2 forward pass as ONNX graphs, built from an imported model's weights (exactly the computation of
 * Hugging Face `EsmForMaskedLM`):
 *   token dropout (mask rows zeroed, embeddings × (1 − 0.15·0.8)/(1 − masked fraction)), padding zeroed;
 *   per block: pre-LayerNorm attention (q scaled by head_dim^-0.5, rotary on q and k, padding masked out
 *   of the keys) + residual, pre-LayerNorm erf-GELU feed-forward + residual;
 *   the final LayerNorm; the LM head (dense, GELU, LayerNorm, tied decoder + bias).
 * Layer numbering: layer L is HF `hidden_states[L]` (0 = embeddings, the last = after the final LayerNorm).
 *
 * A graph is described by a spec: where it starts (token ids, or the hidden state at a layer, so that a
 * modified hidden state can be fed back in for steering), which hidden states it outputs, and whether it
 * computes logits. It stops at the last layer it needs: a graph for layer 4 does not compute blocks 5-6.
 */
import { ElemType, GraphBuilder } from '../onnx/onnx-model'
import { headDim } from './esm2-config'
import type { ImportedEsm2 } from './esm2-import'

export interface Esm2GraphSpec {
  /** 'tokens', or the layer whose hidden state is the graph's input `hidden_in`. */
  from: 'tokens' | number
  /** Layers whose hidden states are outputs `hidden_<L>`. */
  hidden: number[]
  /** Output `logits` [B, T, 33]. */
  logits: boolean
  /** Longest token sequence (incl. <cls>/<eos>) the rotary tables cover. */
  maxTokens: number
}

export interface Esm2GraphValues {
  hidden: Map<number, string>
  logits?: string
}

const FLOAT_MIN = -3.4028234663852886e38

export function specKey(s: Esm2GraphSpec): string {
  return `from-${s.from}_h-${[...s.hidden].sort((a, b) => a - b).join('-') || 'none'}_${s.logits ? 'logits' : 'nologits'}_t${s.maxTokens}`
}

/** The last layer a spec needs to compute. */
export function lastLayerNeeded(model: ImportedEsm2, s: Esm2GraphSpec): number {
  return s.logits ? model.config.numLayers : Math.max(...s.hidden, s.from === 'tokens' ? 0 : s.from)
}

export function validateSpec(model: ImportedEsm2, s: Esm2GraphSpec): void {
  const N = model.config.numLayers
  for (const l of s.hidden) {
    if (!Number.isInteger(l) || l < 0 || l > N) throw new Error(`layer ${l} does not exist: this model has layers 0 (embeddings) to ${N}`)
    if (s.from !== 'tokens' && l < s.from) throw new Error(`a graph starting at layer ${s.from} cannot output layer ${l}`)
  }
  if (s.from !== 'tokens' && (!Number.isInteger(s.from) || s.from < 0 || s.from > N)) throw new Error(`layer ${s.from} does not exist: this model has layers 0 to ${N}`)
  if (s.logits && !model.hasLmHead) throw new Error(`${model.source}: this checkpoint has no LM head (an EsmModel, not EsmForMaskedLM), so it cannot give logits`)
  if (!s.logits && s.hidden.length === 0) throw new Error('a graph must output logits or at least one hidden state')
}

function rotaryTables(maxTokens: number, hd: number): { cos: Float32Array; sinSigned: Float32Array } {
  const half = hd / 2
  const cos = new Float32Array(maxTokens * hd)
  const sinSigned = new Float32Array(maxTokens * hd)
  for (let t = 0; t < maxTokens; t++) {
    for (let j = 0; j < half; j++) {
      // HF computes inv_freq and the angle in float32; so do we, for identical angles.
      const invFreq = Math.fround(1 / Math.fround(10000 ** Math.fround((2 * j) / hd)))
      const angle = Math.fround(t * invFreq)
      const c = Math.cos(angle)
      const s = Math.sin(angle)
      cos[t * hd + j] = c
      cos[t * hd + half + j] = c
      // rotate_half(x) = [-x2, x1]; we compute [x2, x1] and fold the sign into sin.
      sinSigned[t * hd + j] = -s
      sinSigned[t * hd + half + j] = s
    }
  }
  return { cos, sinSigned }
}

/** Adds the ESM2 computation to a builder; returns the names of the requested values. */
export function addEsm2(b: GraphBuilder, model: ImportedEsm2, spec: Esm2GraphSpec, inputIds: string, hiddenIn?: string): Esm2GraphValues {
  validateSpec(model, spec)
  const c = model.config
  const H = c.hiddenSize
  const hd = headDim(c)
  const used = new Set<string>()
  const w = (name: string): string => {
    const e = model.weights[name]
    if (!e) throw new Error(`${model.dir}: weights.bin has no ${name}; re-import the model`)
    if (!used.has(name)) {
      used.add(name)
      b.initializer({ name, elemType: ElemType.FLOAT, dims: e.dims, data: { kind: 'external', location: 'weights.bin', offset: e.offset, length: e.length } })
    }
    return name
  }
  const out: Esm2GraphValues = { hidden: new Map() }
  const last = lastLayerNeeded(model, spec)
  const want = new Set(spec.hidden)

  // Padding mask m [B, T] (1 for real tokens) and the additive attention bias [B, 1, 1, T].
  const isPad = b.equal(inputIds, b.constInt64([c.padTokenId], []))
  const m = b.sub(b.constFloat([1], []), b.cast(isPad, ElemType.FLOAT))
  const attnBias = b.unsqueeze(b.mul(b.cast(isPad, ElemType.FLOAT), b.constFloat([FLOAT_MIN], [])), [1, 2])

  let x: string
  let start: number
  if (spec.from === 'tokens') {
    let emb = b.gather(w('embed'), inputIds)
    if (c.tokenDropout) {
      const isMask = b.cast(b.equal(inputIds, b.constInt64([c.maskTokenId], [])), ElemType.FLOAT)
      emb = b.mul(emb, b.unsqueeze(b.sub(b.constFloat([1], []), isMask), [2]))
      const ratio = b.div(b.reduceSum(isMask, [1]), b.reduceSum(m, [1])) // [B, 1]
      const factor = b.div(b.constFloat([1 - 0.15 * 0.8], []), b.sub(b.constFloat([1], []), ratio))
      emb = b.mul(emb, b.unsqueeze(factor, [2]))
    }
    x = b.mul(emb, b.unsqueeze(m, [2]))
    start = 0
  } else {
    if (!hiddenIn) throw new Error('a graph that starts at a layer needs a hidden-state input')
    x = hiddenIn
    start = spec.from
  }
  if (want.has(start)) out.hidden.set(start, x)

  if (last > start) {
    const { cos, sinSigned } = rotaryTables(spec.maxTokens, hd)
    const seqLen = b.node('Shape', [inputIds], { attributes: { start: { type: 'int', value: 1 }, end: { type: 'int', value: 2 } } })
    const zero = b.constInt64([0])
    const cosT = b.slice(b.constFloat(cos, [spec.maxTokens, hd]), zero, seqLen, zero)
    const sinT = b.slice(b.constFloat(sinSigned, [spec.maxTokens, hd]), zero, seqLen, zero)
    const rotary = (v: string): string => {
      const [x1, x2] = b.split(v, -1, [hd / 2, hd / 2])
      return b.add(b.mul(v, cosT), b.mul(b.concat([x2, x1], -1), sinT))
    }
    const blocksEnd = Math.min(last, c.numLayers) // block l (0-based) produces layer l + 1
    for (let l = start; l < blocksEnd; l++) {
      const p = `layer.${l}`
      const ln1 = b.layerNorm(x, w(`${p}.ln1.w`), w(`${p}.ln1.b`), c.layerNormEps)
      const qkv = b.transpose(b.reshape(b.linear(ln1, w(`${p}.qkv.w`), w(`${p}.qkv.b`)), [0, 0, 3, c.numHeads, hd]), [2, 0, 3, 1, 4])
      const q = rotary(b.gather(qkv, b.constInt64([0], [])))
      const k = rotary(b.gather(qkv, b.constInt64([1], [])))
      const v = b.gather(qkv, b.constInt64([2], []))
      const scores = b.add(b.matMul(q, b.transpose(k, [0, 1, 3, 2])), attnBias)
      const ctx = b.matMul(b.softmax(scores, -1), v)
      const merged = b.reshape(b.transpose(ctx, [0, 2, 1, 3]), [0, 0, H])
      const attnOut = b.add(b.linear(merged, w(`${p}.out.w`), w(`${p}.out.b`)), x)
      const ln2 = b.layerNorm(attnOut, w(`${p}.ln2.w`), w(`${p}.ln2.b`), c.layerNormEps)
      const inter = b.gelu(b.linear(ln2, w(`${p}.fc1.w`), w(`${p}.fc1.b`)))
      x = b.add(b.linear(inter, w(`${p}.fc2.w`), w(`${p}.fc2.b`)), attnOut)
      const layer = l + 1
      if (layer === c.numLayers) x = b.layerNorm(x, w('final_ln.w'), w('final_ln.b'), c.layerNormEps)
      if (want.has(layer)) out.hidden.set(layer, x)
    }
  }
  if (spec.logits) {
    const dense = b.gelu(b.linear(x, w('lm.dense.w'), w('lm.dense.b')))
    const ln = b.layerNorm(dense, w('lm.ln.w'), w('lm.ln.b'), c.layerNormEps)
    out.logits = b.linear(ln, w('lm.decoder'), w('lm.bias'))
  }
  return out
}

/** A complete graph for a spec: inputs `input_ids` [B, T] (and `hidden_in` [B, T, H]); outputs `hidden_<L>`, `logits`. */
export function buildEsm2Graph(model: ImportedEsm2, spec: Esm2GraphSpec): GraphBuilder {
  const b = new GraphBuilder(`esm2_${specKey(spec)}`)
  const H = model.config.hiddenSize
  const ids = b.input('input_ids', ElemType.INT64, ['batch', 'tokens'])
  const hiddenIn = spec.from === 'tokens' ? undefined : b.input('hidden_in', ElemType.FLOAT, ['batch', 'tokens', H])
  const values = addEsm2(b, model, spec, ids, hiddenIn)
  for (const [layer, name] of values.hidden) b.output(name, `hidden_${layer}`, ElemType.FLOAT, ['batch', 'tokens', H])
  if (values.logits) b.output(values.logits, 'logits', ElemType.FLOAT, ['batch', 'tokens', model.config.vocabSize])
  return b
}
