/**
 * An independent, plain float64 forward pass of Hugging Face `EsmForMaskedLM` (ESM2) for ONE unpadded
 * sequence, written from the transformers semantics (EsmEmbeddings, EsmEncoder, EsmLayer,
 * EsmSelfAttention with rotary embeddings, EsmLMHead). Used to check the product's ONNX model.
 *
 * Weight names and layouts are those of the HF checkpoint; linear weights are [out, in].
 */

export interface WeightTensor {
  readonly shape: readonly number[]
  readonly data: Float32Array | Float64Array
}

export type WeightMap = ReadonlyMap<string, WeightTensor>

export interface Esm2ReferenceConfig {
  layers: number
  hidden: number
  heads: number
  ffn: number
  /** layer_norm_eps (1e-5 for ESM2). */
  eps: number
  /** config.token_dropout: HF applies the rescaling at inference too. */
  tokenDropout: boolean
  maskTokenId: number
}

export interface ReferenceOptions {
  /** Also return the attention probabilities of every layer, each [heads * T * T] (head, query, key). */
  returnAttentions?: boolean
}

export interface ReferenceOutput {
  /** hidden_states[0..layers], each [T * hidden]; the last one is after emb_layer_norm_after. */
  hidden: Float64Array[]
  /** [T * vocab] */
  logits: Float64Array
  /** Only with `returnAttentions`: per layer [heads * T * T]. */
  attentions?: Float64Array[]
}

export const PAD_TOKEN_ID = 1
/** ESM2 was trained with 15% of tokens selected, 80% of those replaced by <mask>. */
export const MASK_RATIO_TRAIN = 0.15 * 0.8

type Vector = Float32Array | Float64Array

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

function weight(weights: WeightMap, name: string, shape: readonly number[]): Vector {
  const tensor = weights.get(name)
  if (tensor === undefined) throw new Error(`missing weight ${name}`)
  if (!sameShape(tensor.shape, shape)) {
    throw new Error(`${name}: expected shape [${shape.join(', ')}], got [${tensor.shape.join(', ')}]`)
  }
  return tensor.data
}

// ---------------------------------------------------------------------------------------------------
// Scalar functions

const SQRT_PI = Math.sqrt(Math.PI)

/** erf for |x| < 3 from the all-positive series erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (2n+1)!! */
function erfSeries(x: number): number {
  const x2 = x * x
  let term = x
  let sum = x
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1)
    sum += term
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum
}

/**
 * erfc for x >= 3 from the continued fraction
 * erfc(x) = e^{-x^2}/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated with modified Lentz.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300
  let f = x
  let c = x
  let d = 0
  for (let n = 1; n < 500; n++) {
    const a = n / 2
    d = x + a * d
    d = Math.abs(d) < tiny ? 1 / tiny : 1 / d
    c = x + a / c
    if (Math.abs(c) < tiny) c = tiny
    const delta = c * d
    f *= delta
    if (Math.abs(delta - 1) < 1e-16) break
  }
  return Math.exp(-x * x) / (SQRT_PI * f)
}

/** The error function, accurate to ~1e-15. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN
  const ax = Math.abs(x)
  if (ax < 3) return erfSeries(x)
  if (ax > 6) return Math.sign(x)
  const value = 1 - erfcContinuedFraction(ax)
  return x < 0 ? -value : value
}

/** The exact (erf) GELU of nn.GELU / ACT2FN['gelu']: 0.5 x (1 + erf(x / sqrt 2)). */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2))
}

// ---------------------------------------------------------------------------------------------------
// Row-wise building blocks (x is row-major [rows * dim])

/** y = x W^T + b with W [outDim, inDim]. */
export function linear(
  x: Float64Array,
  rows: number,
  inDim: number,
  w: Vector,
  b: Vector,
  outDim: number
): Float64Array {
  const y = new Float64Array(rows * outDim)
  for (let r = 0; r < rows; r++) {
    const xOff = r * inDim
    for (let o = 0; o < outDim; o++) {
      const wOff = o * inDim
      let sum = 0
      for (let i = 0; i < inDim; i++) sum += x[xOff + i] * w[wOff + i]
      y[r * outDim + o] = sum + b[o]
    }
  }
  return y
}

/** nn.LayerNorm over the last dimension: (x - mean) / sqrt(var + eps) * w + b, biased variance. */
export function layerNorm(x: Float64Array, rows: number, dim: number, w: Vector, b: Vector, eps: number): Float64Array {
  const y = new Float64Array(rows * dim)
  for (let r = 0; r < rows; r++) {
    const off = r * dim
    let mean = 0
    for (let i = 0; i < dim; i++) mean += x[off + i]
    mean /= dim
    let variance = 0
    for (let i = 0; i < dim; i++) variance += (x[off + i] - mean) ** 2
    variance /= dim
    const inv = 1 / Math.sqrt(variance + eps)
    for (let i = 0; i < dim; i++) y[off + i] = (x[off + i] - mean) * inv * w[i] + b[i]
  }
  return y
}

function geluInPlace(x: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] = gelu(x[i])
  return x
}

function addInPlace(x: Float64Array, y: Float64Array): Float64Array {
  for (let i = 0; i < x.length; i++) x[i] += y[i]
  return x
}

/** Softmax of row[offset .. offset + n) in place (max-subtracted). */
export function softmaxInPlace(row: Float64Array, offset: number, n: number): void {
  let max = -Infinity
  for (let j = 0; j < n; j++) max = Math.max(max, row[offset + j])
  let sum = 0
  for (let j = 0; j < n; j++) {
    const e = Math.exp(row[offset + j] - max)
    row[offset + j] = e
    sum += e
  }
  for (let j = 0; j < n; j++) row[offset + j] /= sum
}

// ---------------------------------------------------------------------------------------------------
// Embeddings

/** Token-dropout factor (1 - 0.15 * 0.8) / (1 - #mask / T) with T counting every (non-pad) token. */
export function tokenDropoutScale(tokens: readonly number[], maskTokenId: number): number {
  const masked = tokens.filter(t => t === maskTokenId).length
  return (1 - MASK_RATIO_TRAIN) / (1 - masked / tokens.length)
}

/** EsmEmbeddings: word embeddings, then (with token dropout) zeroed <mask> rows and the rescaling. */
export function embed(weights: WeightMap, config: Esm2ReferenceConfig, tokens: readonly number[]): Float64Array {
  const table = weights.get('esm.embeddings.word_embeddings.weight')
  if (table === undefined) throw new Error('missing weight esm.embeddings.word_embeddings.weight')
  const [vocab, hidden] = table.shape
  if (hidden !== config.hidden) throw new Error(`word embeddings have width ${hidden}, config says ${config.hidden}`)
  const scale = config.tokenDropout ? tokenDropoutScale(tokens, config.maskTokenId) : 1
  const x = new Float64Array(tokens.length * hidden)
  tokens.forEach((token, t) => {
    if (!Number.isInteger(token) || token < 0 || token >= vocab) throw new Error(`token ${token} out of range`)
    if (config.tokenDropout && token === config.maskTokenId) return // row stays 0
    for (let i = 0; i < hidden; i++) x[t * hidden + i] = table.data[token * hidden + i] * scale
  })
  return x
}

// ---------------------------------------------------------------------------------------------------
// Rotary position embeddings (RotaryEmbedding / apply_rotary_pos_emb / rotate_half)

/** inv_freq[j] = 1 / 10000^(2j / headDim), j < headDim / 2. */
export function rotaryInvFreq(headDim: number): Float64Array {
  const invFreq = new Float64Array(headDim / 2)
  for (let j = 0; j < invFreq.length; j++) invFreq[j] = 1 / 10000 ** ((2 * j) / headDim)
  return invFreq
}

/** cos / sin tables [T * headDim] of emb = cat(freqs, freqs), freqs[t, j] = t * inv_freq[j]. */
export function rotaryTables(length: number, headDim: number): { cos: Float64Array; sin: Float64Array } {
  const invFreq = rotaryInvFreq(headDim)
  const half = headDim / 2
  const cos = new Float64Array(length * headDim)
  const sin = new Float64Array(length * headDim)
  for (let t = 0; t < length; t++) {
    for (let d = 0; d < headDim; d++) {
      const angle = t * invFreq[d % half]
      cos[t * headDim + d] = Math.cos(angle)
      sin[t * headDim + d] = Math.sin(angle)
    }
  }
  return { cos, sin }
}

/**
 * x' = x * cos + rotate_half(x) * sin on vec[offset .. offset + headDim), rotate_half(x) = cat(-x2, x1),
 * using the table row of `position`.
 */
export function applyRotaryInPlace(
  vec: Float64Array,
  offset: number,
  headDim: number,
  tables: { cos: Float64Array; sin: Float64Array },
  position: number
): void {
  const half = headDim / 2
  const x = vec.slice(offset, offset + headDim)
  const row = position * headDim
  for (let d = 0; d < headDim; d++) {
    const rotated = d < half ? -x[d + half] : x[d - half]
    vec[offset + d] = x[d] * tables.cos[row + d] + rotated * tables.sin[row + d]
  }
}

// ---------------------------------------------------------------------------------------------------
// Encoder

interface LayerContext {
  weights: WeightMap
  config: Esm2ReferenceConfig
  length: number
  rotary: { cos: Float64Array; sin: Float64Array }
}

function linearLayer(ctx: LayerContext, x: Float64Array, prefix: string, inDim: number, outDim: number): Float64Array {
  const w = weight(ctx.weights, `${prefix}.weight`, [outDim, inDim])
  const b = weight(ctx.weights, `${prefix}.bias`, [outDim])
  return linear(x, ctx.length, inDim, w, b, outDim)
}

function layerNormLayer(ctx: LayerContext, x: Float64Array, prefix: string): Float64Array {
  const { hidden, eps } = ctx.config
  const w = weight(ctx.weights, `${prefix}.weight`, [hidden])
  const b = weight(ctx.weights, `${prefix}.bias`, [hidden])
  return layerNorm(x, ctx.length, hidden, w, b, eps)
}

/** EsmSelfAttention on the (already layer-normed) input; returns the merged context [T * H] and probabilities. */
function selfAttention(
  ctx: LayerContext,
  x: Float64Array,
  prefix: string
): { context: Float64Array; probs: Float64Array } {
  const { hidden, heads } = ctx.config
  const T = ctx.length
  const headDim = hidden / heads
  const q = linearLayer(ctx, x, `${prefix}.query`, hidden, hidden)
  const k = linearLayer(ctx, x, `${prefix}.key`, hidden, hidden)
  const v = linearLayer(ctx, x, `${prefix}.value`, hidden, hidden)
  const scale = headDim ** -0.5
  for (let i = 0; i < q.length; i++) q[i] *= scale
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      applyRotaryInPlace(q, t * hidden + h * headDim, headDim, ctx.rotary, t)
      applyRotaryInPlace(k, t * hidden + h * headDim, headDim, ctx.rotary, t)
    }
  }
  const probs = new Float64Array(heads * T * T)
  const context = new Float64Array(T * hidden)
  for (let h = 0; h < heads; h++) {
    const headOff = h * headDim
    for (let i = 0; i < T; i++) {
      const rowOff = (h * T + i) * T
      for (let j = 0; j < T; j++) {
        let score = 0
        for (let d = 0; d < headDim; d++) score += q[i * hidden + headOff + d] * k[j * hidden + headOff + d]
        probs[rowOff + j] = score
      }
      softmaxInPlace(probs, rowOff, T)
      for (let j = 0; j < T; j++) {
        const p = probs[rowOff + j]
        for (let d = 0; d < headDim; d++) context[i * hidden + headOff + d] += p * v[j * hidden + headOff + d]
      }
    }
  }
  return { context, probs }
}

/** EsmLayer: pre-LN attention block and pre-LN feed-forward block, each with a residual on its input. */
function encoderLayer(ctx: LayerContext, x: Float64Array, index: number): { out: Float64Array; probs: Float64Array } {
  const { hidden, ffn } = ctx.config
  const p = `esm.encoder.layer.${index}`
  const attnIn = layerNormLayer(ctx, x, `${p}.attention.LayerNorm`)
  const { context, probs } = selfAttention(ctx, attnIn, `${p}.attention.self`)
  const attnOut = addInPlace(linearLayer(ctx, context, `${p}.attention.output.dense`, hidden, hidden), x)
  const ffnIn = layerNormLayer(ctx, attnOut, `${p}.LayerNorm`)
  const inter = geluInPlace(linearLayer(ctx, ffnIn, `${p}.intermediate.dense`, hidden, ffn))
  const out = addInPlace(linearLayer(ctx, inter, `${p}.output.dense`, ffn, hidden), attnOut)
  return { out, probs }
}

/** EsmLMHead: dense -> gelu -> layer_norm -> decoder (tied to the word embeddings if absent) + bias. */
function lmHead(ctx: LayerContext, x: Float64Array): Float64Array {
  const { hidden } = ctx.config
  const embeddings = ctx.weights.get('esm.embeddings.word_embeddings.weight')
  if (embeddings === undefined) throw new Error('missing weight esm.embeddings.word_embeddings.weight')
  const vocab = embeddings.shape[0]
  const h = layerNormLayer(ctx, geluInPlace(linearLayer(ctx, x, 'lm_head.dense', hidden, hidden)), 'lm_head.layer_norm')
  const decoder = ctx.weights.has('lm_head.decoder.weight')
    ? weight(ctx.weights, 'lm_head.decoder.weight', [vocab, hidden])
    : embeddings.data
  return linear(h, ctx.length, hidden, decoder, weight(ctx.weights, 'lm_head.bias', [vocab]), vocab)
}

function checkInputs(config: Esm2ReferenceConfig, tokens: readonly number[]): void {
  if (tokens.length === 0) throw new Error('empty token sequence')
  if (tokens.includes(PAD_TOKEN_ID)) throw new Error('the reference handles one unpadded sequence: found <pad>')
  if (config.hidden % config.heads !== 0 || (config.hidden / config.heads) % 2 !== 0) {
    throw new Error(`hidden ${config.hidden} must split into ${config.heads} heads of even size`)
  }
}

/** The HF EsmForMaskedLM forward (output_hidden_states=True) for one unpadded sequence of token ids. */
export function referenceForward(
  weights: WeightMap,
  config: Esm2ReferenceConfig,
  tokens: readonly number[],
  options: ReferenceOptions = {}
): ReferenceOutput {
  checkInputs(config, tokens)
  const headDim = config.hidden / config.heads
  const ctx: LayerContext = { weights, config, length: tokens.length, rotary: rotaryTables(tokens.length, headDim) }
  const hidden: Float64Array[] = [embed(weights, config, tokens)]
  const attentions: Float64Array[] = []
  let x = hidden[0]
  for (let i = 0; i < config.layers; i++) {
    const { out, probs } = encoderLayer(ctx, x, i)
    if (options.returnAttentions) attentions.push(probs)
    x = out
    if (i < config.layers - 1) hidden.push(x)
  }
  const last = layerNormLayer(ctx, x, 'esm.encoder.emb_layer_norm_after')
  hidden.push(last)
  const logits = lmHead(ctx, last)
  return options.returnAttentions ? { hidden, logits, attentions } : { hidden, logits }
}
