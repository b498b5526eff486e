/**
 * The ESM2 forward pass as ONNX graphs, built from an imported model's weights (exactly the computation of
 * Hugging Face `EsmForMaskedLM`):
 *   token dropout (mask rows zeroed, embeddings × (1 − 0.15·0.8)/(1 − masked fraction)), padding zeroed;
 *   per block: pre-LayerNorm attention (q scaled by head_dim^-0.5, rotary on q and k, padding masked out
 *   of the keys) + residual, pre-LayerNorm erf-GELU feed-forward + residual;
 *   the final LayerNorm; the LM head (dense, GELU, LayerNorm, tied decoder + bias).
 * Layer numbering: layer L is HF `hidden_states[L]` (0 = embeddings, the last = after the final LayerNorm).
 *
 * Attention uses ONNX Runtime's contrib ops (domain com.microsoft, CPU and CUDA kernels): RotaryEmbedding
 * (non-interleaved, i.e. HF's rotate_half) and MultiHeadAttention (scale 1: q is pre-scaled in the weights).
 * An If node leaves the padding mask out when a batch has no `<pad>`, so that ONNX Runtime takes its
 * flash-attention kernel (it does not with a mask); both branches compute the same values.
 *
 * Attention has two forms (`AttentionForm`), chosen by the execution provider (`attentionFormFor`):
 *   'fused'    the MultiHeadAttention contrib op above (CPU, CUDA);
 *   'explicit' standard ONNX ops only: per head Q·Kᵀ (MatMul) + an additive key bias (0 for real tokens,
 *              MASK_FILTER for `<pad>`), Softmax, ·V (MatMul). For WebGPU: its MultiHeadAttention kernel
 *              rejects a key padding mask ("not implemented for webgpu") and, measured with ONNX Runtime
 *              1.30, is wrong without one at ESM2-8M's shape (20 heads of 16, 62 tokens: off by 0.17), while
 *              MatMul, Softmax, Add, Transpose and RotaryEmbedding agree with the CPU to 1e-7.
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
  /** How attention is computed (see the file comment); the execution provider decides. */
  attention: AttentionForm
}

export type AttentionForm = 'fused' | 'explicit'

/** The attention form a provider computes exactly: WebGPU's fused kernel is not (see the file comment). */
export function attentionFormFor(provider: 'cpu' | 'cuda' | 'webgpu'): AttentionForm {
  return provider === 'webgpu' ? 'explicit' : 'fused'
}

export interface Esm2GraphValues {
  hidden: Map<number, string>
  logits?: string
}

/** Added to the attention scores of padding keys: far below any real score, and finite (no inf − inf). */
const MASK_FILTER = -1e30
const MS_DOMAIN = 'com.microsoft'

export function specKey(s: Esm2GraphSpec): string {
  return `from-${s.from}_h-${[...s.hidden].sort((a, b) => a - b).join('-') || 'none'}_${s.logits ? 'logits' : 'nologits'}_t${s.maxTokens}${s.attention === 'explicit' ? '_attn-explicit' : ''}`
}

/** The last layer a spec needs to compute. */
export function lastLayerNeeded(model: ImportedEsm2, s: Esm2GraphSpec): number {
  return s.logits ? model.config.numLayers : Math.max(...s.hidden, s.from === 'tokens' ? 0 : s.from)
}

export function validateSpec(model: ImportedEsm2, s: Esm2GraphSpec): void {
  const N = model.config.numLayers
  for (const l of s.hidden) {
    if (!Number.isInteger(l) || l < 0 || l > N)
      throw new Error(`layer ${l} does not exist: this model has layers 0 (embeddings) to ${N}`)
    if (s.from !== 'tokens' && l < s.from)
      throw new Error(`a graph starting at layer ${s.from} cannot output layer ${l}`)
  }
  if (s.from !== 'tokens' && (!Number.isInteger(s.from) || s.from < 0 || s.from > N))
    throw new Error(`layer ${s.from} does not exist: this model has layers 0 to ${N}`)
  if (s.logits && !model.hasLmHead)
    throw new Error(
      `${model.source}: this checkpoint has no LM head (an EsmModel, not EsmForMaskedLM), so it cannot give logits`
    )
  if (!s.logits && s.hidden.length === 0) throw new Error('a graph must output logits or at least one hidden state')
}

/** cos/sin caches [maxTokens, head_dim / 2] of the rotary angles t · inv_freq[j]. */
function rotaryTables(maxTokens: number, hd: number): { cos: Float32Array; sin: Float32Array } {
  const half = hd / 2
  const cos = new Float32Array(maxTokens * half)
  const sin = new Float32Array(maxTokens * half)
  for (let t = 0; t < maxTokens; t++) {
    for (let j = 0; j < half; j++) {
      // HF computes inv_freq and the angle in float32; so do we, for identical angles.
      const invFreq = Math.fround(1 / Math.fround(10000 ** Math.fround((2 * j) / hd)))
      const angle = Math.fround(t * invFreq)
      cos[t * half + j] = Math.cos(angle)
      sin[t * half + j] = Math.sin(angle)
    }
  }
  return { cos, sin }
}

/** Adds the ESM2 computation to a builder; returns the names of the requested values. */
export function addEsm2(
  b: GraphBuilder,
  model: ImportedEsm2,
  spec: Esm2GraphSpec,
  inputIds: string,
  hiddenIn?: string
): Esm2GraphValues {
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
      b.initializer({
        name,
        elemType: ElemType.FLOAT,
        dims: e.dims,
        data: { kind: 'external', location: 'weights.bin', offset: e.offset, length: e.length }
      })
    }
    return name
  }
  const out: Esm2GraphValues = { hidden: new Map() }
  const last = lastLayerNeeded(model, spec)
  const want = new Set(spec.hidden)

  // Padding mask m [B, T] (1 for real tokens).
  const isPad = b.equal(inputIds, b.constInt64([c.padTokenId], []))
  const m = b.sub(b.constFloat([1], []), b.cast(isPad, ElemType.FLOAT))

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
    const { cos, sin } = rotaryTables(spec.maxTokens, hd)
    const cosCache = b.constFloat(cos, [spec.maxTokens, hd / 2])
    const sinCache = b.constFloat(sin, [spec.maxTokens, hd / 2])
    const position0 = b.constInt64([0], [1])
    // ONNX Runtime's RotaryEmbedding (non-interleaved = HF rotate_half) on [B, T, H] with positions 0..T-1.
    const rotary = (v: string): string =>
      b.node('RotaryEmbedding', [v, position0, cosCache, sinCache], {
        domain: MS_DOMAIN,
        attributes: { interleaved: { type: 'int', value: 0 }, num_heads: { type: 'int', value: c.numHeads } }
      })
    const noPadding = b.equal(b.reduceSum(b.cast(isPad, ElemType.INT64), [0, 1], false), b.constInt64([0], []))
    const keyMask = b.cast(b.sub(b.constInt64([1], []), b.cast(isPad, ElemType.INT64)), ElemType.INT32) // [B, T], 1 = real token
    // The explicit form: [B, T, H] → heads [B, nh, T, hd]; scores [B, nh, T, T] + the key bias; softmax; · V.
    let bias: string | undefined
    const keyBias = (): string =>
      (bias ??= b.unsqueeze(b.mul(b.cast(isPad, ElemType.FLOAT), b.constFloat([MASK_FILTER], [])), [1, 2])) // [B, 1, 1, T]
    const heads = (t: string, perm: number[]): string => b.transpose(b.reshape(t, [0, 0, c.numHeads, hd]), perm)
    const explicitAttention = (q: string, k: string, v: string, keyBias: string): string => {
      const scores = b.add(b.matMul(heads(q, [0, 2, 1, 3]), heads(k, [0, 2, 3, 1])), keyBias)
      const context = b.matMul(b.softmax(scores, -1), heads(v, [0, 2, 1, 3])) // [B, nh, T, hd]
      return b.reshape(b.transpose(context, [0, 2, 1, 3]), [0, 0, H])
    }
    const blocksEnd = Math.min(last, c.numLayers) // block l (0-based) produces layer l + 1
    for (let l = start; l < blocksEnd; l++) {
      const p = `layer.${l}`
      const ln1 = b.layerNorm(x, w(`${p}.ln1.w`), w(`${p}.ln1.b`), c.layerNormEps)
      const [q, k, v] = b.split(b.linear(ln1, w(`${p}.qkv.w`), w(`${p}.qkv.b`)), -1, [H, H, H])
      // q is pre-scaled by head_dim^-0.5 in the weights (before rotary, as HF does), hence scale 1.
      const qr = rotary(q)
      const kr = rotary(k)
      const fused = (g: GraphBuilder, inputs: string[]): string[] => [
        g.node('MultiHeadAttention', inputs, {
          domain: MS_DOMAIN,
          attributes: {
            num_heads: { type: 'int', value: c.numHeads },
            scale: { type: 'float', value: 1 },
            mask_filter_value: { type: 'float', value: MASK_FILTER }
          }
        })
      ]
      // Without padding in the batch (one sequence, or sequences of one length) the mask is left out,
      // which lets ONNX Runtime take its flash-attention kernel (no T×T score matrices in memory).
      const merged =
        spec.attention === 'explicit'
          ? explicitAttention(qr, kr, v, keyBias())
          : b.ifElse(
              noPadding,
              [{ elemType: ElemType.FLOAT, shape: ['batch', 'tokens', H] }],
              g => fused(g, [qr, kr, v]),
              g => fused(g, [qr, kr, v, '', keyMask])
            )[0]
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
