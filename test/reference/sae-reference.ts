/**
 * Independent float64 reference implementations of the SAE formats the product loads, written from each
 * source's own definition (NOT from the product's canonical `SaeWeights`). One row at a time, plain loops.
 *
 * - preprint (edithvillegas/plm-sae `sae/SAE_methods.py`, AutoEncoder):
 *     encode(x) = relu((x − b_dec) @ W_enc + b_enc), W_enc [d_in, d_sae]
 *     decode(a) = a @ W_dec + b_dec,                 W_dec [d_sae, d_in]
 * - InterPLM (`interplm/sae/dictionary.py`, ReLUSAE):
 *     x' = normalize_to_sqrt_d ? x / max(||x||, 1e-8) · √d : x
 *     encode(x') = relu(encoder(x' − bias))  (nn.Linear: x @ encoder.weight.T + encoder.bias, weight [d_sae, d_in])
 *                  / activation_rescale_factor   (normalize_features, the normalized form)
 *     decode(f)  = decoder(f) + bias          (nn.Linear without bias: f @ decoder.weight.T, weight [d_in, d_sae])
 *     output     = normalize_to_sqrt_d ? decode · ||x|| / √d : decode
 *   For the normalized form, decoding the reported (divided) features multiplies them back by the factor.
 * - generic (this project's sae.json + sae.safetensors, documented in src/main/engine/sae/sae-generic.ts):
 *     pre = b_pre if present, else b_dec when apply_b_dec_to_input (default true), else 0
 *     z = (x·s − pre) @ W_enc + b_enc;  relu | topk(k): relu on the k largest z | jumprelu: z where z > threshold
 *     decode(f) = (f @ W_dec + b_dec) / s
 */

export interface RefTensor {
  shape: readonly number[]
  data: ArrayLike<number>
}

function dims(t: RefTensor, name: string, shape: readonly number[]): ArrayLike<number> {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`reference: ${name} has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`)
  }
  return t.data
}

// ------------------------------------------------------------------ preprint

export interface PreprintTensors {
  W_enc: RefTensor
  b_enc: RefTensor
  W_dec: RefTensor
  b_dec: RefTensor
}

export function preprintEncode(t: PreprintTensors, x: ArrayLike<number>): Float64Array {
  const [dIn, dSae] = t.W_enc.shape
  const W = dims(t.W_enc, 'W_enc', [dIn, dSae])
  const bEnc = dims(t.b_enc, 'b_enc', [dSae])
  const bDec = dims(t.b_dec, 'b_dec', [dIn])
  const out = new Float64Array(dSae)
  for (let j = 0; j < dSae; j++) {
    let z = bEnc[j]
    for (let i = 0; i < dIn; i++) z += (x[i] - bDec[i]) * W[i * dSae + j]
    out[j] = Math.max(0, z)
  }
  return out
}

export function preprintDecode(t: PreprintTensors, a: ArrayLike<number>): Float64Array {
  const [dSae, dIn] = t.W_dec.shape
  const W = dims(t.W_dec, 'W_dec', [dSae, dIn])
  const bDec = dims(t.b_dec, 'b_dec', [dIn])
  const out = new Float64Array(dIn)
  for (let i = 0; i < dIn; i++) {
    let v = bDec[i]
    for (let j = 0; j < dSae; j++) v += a[j] * W[j * dIn + i]
    out[i] = v
  }
  return out
}

// ------------------------------------------------------------------ InterPLM

export interface InterplmTensors {
  bias: RefTensor
  'encoder.weight': RefTensor
  'encoder.bias': RefTensor
  'decoder.weight': RefTensor
  activation_rescale_factor?: RefTensor
  normalize_to_sqrt_d?: boolean
}

function interplmNormalized(t: InterplmTensors, x: ArrayLike<number>): { xn: Float64Array; norm: number } {
  const d = x.length
  const xn = new Float64Array(d)
  if (t.normalize_to_sqrt_d !== true) {
    for (let i = 0; i < d; i++) xn[i] = x[i]
    return { xn, norm: 1 }
  }
  let sq = 0
  for (let i = 0; i < d; i++) sq += x[i] * x[i]
  const norm = Math.max(Math.sqrt(sq), 1e-8)
  for (let i = 0; i < d; i++) xn[i] = (x[i] / norm) * Math.sqrt(d)
  return { xn, norm }
}

/** The features InterPLM reports: with `normalizedForm`, divided by activation_rescale_factor. */
export function interplmEncode(t: InterplmTensors, x: ArrayLike<number>, normalizedForm: boolean): Float64Array {
  const [dSae, dIn] = t['encoder.weight'].shape
  const W = dims(t['encoder.weight'], 'encoder.weight', [dSae, dIn])
  const b = dims(t['encoder.bias'], 'encoder.bias', [dSae])
  const pre = dims(t.bias, 'bias', [dIn])
  const { xn } = interplmNormalized(t, x)
  const out = new Float64Array(dSae)
  for (let j = 0; j < dSae; j++) {
    let z = b[j]
    for (let i = 0; i < dIn; i++) z += W[j * dIn + i] * (xn[i] - pre[i])
    let f = Math.max(0, z)
    if (normalizedForm && t.activation_rescale_factor !== undefined) f /= t.activation_rescale_factor.data[j]
    out[j] = f
  }
  return out
}

/**
 * Reconstruction in the input's original space from reported features `f` of input `x` (x is needed for
 * its norm when normalize_to_sqrt_d).
 */
export function interplmDecode(
  t: InterplmTensors,
  f: ArrayLike<number>,
  x: ArrayLike<number>,
  normalizedForm: boolean
): Float64Array {
  const [dIn, dSae] = t['decoder.weight'].shape
  const W = dims(t['decoder.weight'], 'decoder.weight', [dIn, dSae])
  const pre = dims(t.bias, 'bias', [dIn])
  const { norm } = interplmNormalized(t, x)
  const out = new Float64Array(dIn)
  for (let i = 0; i < dIn; i++) {
    let v = 0
    for (let j = 0; j < dSae; j++) {
      const raw =
        normalizedForm && t.activation_rescale_factor !== undefined ? f[j] * t.activation_rescale_factor.data[j] : f[j]
      v += W[i * dSae + j] * raw
    }
    v += pre[i]
    out[i] = t.normalize_to_sqrt_d === true ? (v * norm) / Math.sqrt(dIn) : v
  }
  return out
}

// ------------------------------------------------------------------ generic

export interface GenericConfig {
  activation: 'relu' | 'topk' | 'jumprelu'
  k?: number
  normalize_to_sqrt_d?: boolean
  apply_b_dec_to_input?: boolean
}

export interface GenericTensors {
  W_enc: RefTensor
  b_enc: RefTensor
  W_dec: RefTensor
  b_dec: RefTensor
  b_pre?: RefTensor
  threshold?: RefTensor
}

function genericScale(cfg: GenericConfig, x: ArrayLike<number>): number {
  if (cfg.normalize_to_sqrt_d !== true) return 1
  let sq = 0
  for (let i = 0; i < x.length; i++) sq += x[i] * x[i]
  return Math.sqrt(x.length) / Math.max(Math.sqrt(sq), 1e-8)
}

export function genericEncode(cfg: GenericConfig, t: GenericTensors, x: ArrayLike<number>): Float64Array {
  const [dIn, dSae] = t.W_enc.shape
  const W = dims(t.W_enc, 'W_enc', [dIn, dSae])
  const bEnc = dims(t.b_enc, 'b_enc', [dSae])
  const pre =
    t.b_pre !== undefined
      ? dims(t.b_pre, 'b_pre', [dIn])
      : cfg.apply_b_dec_to_input === false
        ? new Float64Array(dIn)
        : dims(t.b_dec, 'b_dec', [dIn])
  const s = genericScale(cfg, x)
  const z = new Float64Array(dSae)
  for (let j = 0; j < dSae; j++) {
    let v = bEnc[j]
    for (let i = 0; i < dIn; i++) v += (x[i] * s - pre[i]) * W[i * dSae + j]
    z[j] = v
  }
  const out = new Float64Array(dSae)
  if (cfg.activation === 'relu') {
    for (let j = 0; j < dSae; j++) out[j] = Math.max(0, z[j])
  } else if (cfg.activation === 'topk') {
    const k = cfg.k ?? 0
    const idx = Array.from({ length: dSae }, (_, j) => j).sort((a, b) => z[b] - z[a] || a - b)
    for (const j of idx.slice(0, k)) out[j] = Math.max(0, z[j])
  } else {
    if (t.threshold === undefined) throw new Error('reference: jumprelu needs threshold')
    const th = dims(t.threshold, 'threshold', [dSae])
    for (let j = 0; j < dSae; j++) out[j] = z[j] > th[j] ? z[j] : 0
  }
  return out
}

export function genericDecode(
  cfg: GenericConfig,
  t: GenericTensors,
  f: ArrayLike<number>,
  x: ArrayLike<number>
): Float64Array {
  const [dSae, dIn] = t.W_dec.shape
  const W = dims(t.W_dec, 'W_dec', [dSae, dIn])
  const bDec = dims(t.b_dec, 'b_dec', [dIn])
  const s = genericScale(cfg, x)
  const out = new Float64Array(dIn)
  for (let i = 0; i < dIn; i++) {
    let v = bDec[i]
    for (let j = 0; j < dSae; j++) v += f[j] * W[j * dIn + i]
    out[i] = v / s
  }
  return out
}

// ------------------------------------------------------------------ InterPLM / dictionary_learning classes
// From interplm/sae/dictionary.py (and dictionary_learning's dictionary.py / matryoshka_batch_top_k.py),
// forward(x, unnormalize=True) with encode(x, normalize_features=True) for the reported features:
//   x' = normalize_to_sqrt_d ? x / max(||x||, 1e-8) · √d : x
//   ReLUSAE:        f = relu(enc(x' − bias));                     x̂' = dec(f) + bias
//   ReLUSAE_Tied:   f = relu(enc(x'));                            x̂' = dec(f) + dec.bias
//   TopKSAE:        r = relu(enc(x' − b_dec)); f = top_k(r);      x̂' = dec(f) + b_dec
//   BatchTopKSAE:   r = relu(enc(x' − b_dec)); f = r·(r > thr);   x̂' = dec(f) + b_dec
//   JumpReLUSAE:    z = enc(x'); f = relu(z·(z > θ));             x̂' = dec(f) + dec.bias
//   JumpReLU (old): z = x'·W_enc + b_enc; f = relu(z·(z > θ));    x̂' = f·W_dec + b_dec
//   Matryoshka:     r = relu((x' − b_dec)·W_enc + b_enc); f = r·(r > thr);  x̂' = f·W_dec + b_dec
//   reported f /= activation_rescale_factor (a factor of 0, a feature that never fired, reports 0: InterPLM
//   would divide by 0, and the reconstruction from its reported features, f · factor decoded, would be NaN;
//   we decode such a feature as 0, so it contributes nothing);
//   x̂ = normalize_to_sqrt_d ? x̂' · ||x|| / √d : x̂'

export type NamedRefTensors = Record<string, RefTensor>

export interface DictionaryRefOptions {
  normalizedForm: boolean
  normalizeToSqrtD?: boolean
  k?: number
  threshold?: number
}

/** nn.Linear(x) = x · Wᵀ + b with W [out, in]. */
function linear(W: RefTensor, b: RefTensor | undefined, x: ArrayLike<number>): Float64Array {
  const [out, inp] = W.shape
  const y = new Float64Array(out)
  for (let o = 0; o < out; o++) {
    let v = b ? b.data[o] : 0
    for (let i = 0; i < inp; i++) v += W.data[o * inp + i] * x[i]
    y[o] = v
  }
  return y
}

/** x · W + b with W [in, out]. */
function matmul(W: RefTensor, b: RefTensor | undefined, x: ArrayLike<number>): Float64Array {
  const [inp, out] = W.shape
  const y = new Float64Array(out)
  for (let o = 0; o < out; o++) {
    let v = b ? b.data[o] : 0
    for (let i = 0; i < inp; i++) v += x[i] * W.data[i * out + o]
    y[o] = v
  }
  return y
}

function minus(x: ArrayLike<number>, b: RefTensor): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => x[i] - b.data[i])
}

function topK(r: Float64Array, k: number): Float64Array {
  const idx = Array.from({ length: r.length }, (_, j) => j).sort((a, b) => r[b] - r[a] || a - b)
  const out = new Float64Array(r.length)
  for (const j of idx.slice(0, k)) out[j] = r[j]
  return out
}

const relu = (v: number): number => (v > 0 ? v : 0)

export function dictionaryForward(
  cls: string,
  t: NamedRefTensors,
  x: ArrayLike<number>,
  o: DictionaryRefOptions
): { f: Float64Array; xHat: Float64Array } {
  const d = x.length
  let norm = 1
  let xn: ArrayLike<number> = x
  if (o.normalizeToSqrtD) {
    let sq = 0
    for (let i = 0; i < d; i++) sq += x[i] * x[i]
    norm = Math.max(Math.sqrt(sq), 1e-8)
    xn = Float64Array.from({ length: d }, (_, i) => (x[i] / norm) * Math.sqrt(d))
  }
  const factor = o.normalizedForm ? t.activation_rescale_factor : undefined
  const dropNeverFired = (raw: Float64Array): Float64Array =>
    factor ? raw.map((v, j) => (factor.data[j] === 0 ? 0 : v)) : raw
  let raw: Float64Array
  let xHat: Float64Array
  switch (cls) {
    case 'ReLUSAE':
      raw = linear(t['encoder.weight'], t['encoder.bias'], minus(xn, t.bias)).map(relu)
      xHat = linear(t['decoder.weight'], t.bias, dropNeverFired(raw))
      break
    case 'ReLUSAE_Tied':
      raw = linear(t['encoder.weight'], t['encoder.bias'], xn).map(relu)
      xHat = linear(t['decoder.weight'], t['decoder.bias'], dropNeverFired(raw))
      break
    case 'TopKSAE':
    case 'BatchTopKSAE': {
      const r = linear(t['encoder.weight'], t['encoder.bias'], minus(xn, t.b_dec)).map(relu)
      raw = cls === 'TopKSAE' ? topK(r, o.k ?? 0) : r.map(v => (v > (o.threshold ?? 0) ? v : 0))
      xHat = linear(t['decoder.weight'], t.b_dec, dropNeverFired(raw))
      break
    }
    case 'JumpReLUSAE': {
      const z = linear(t['encoder.weight'], t['encoder.bias'], xn)
      raw = z.map((v, j) => relu(v > t.threshold.data[j] ? v : 0))
      xHat = linear(t['decoder.weight'], t['decoder.bias'], dropNeverFired(raw))
      break
    }
    case 'JumpReLUSAE_old': {
      const z = matmul(t.W_enc, t.b_enc, xn)
      raw = z.map((v, j) => relu(v > t.threshold.data[j] ? v : 0))
      xHat = matmul(t.W_dec, t.b_dec, dropNeverFired(raw))
      break
    }
    case 'MatryoshkaBatchTopKSAE': {
      const r = matmul(t.W_enc, t.b_enc, minus(xn, t.b_dec)).map(relu)
      raw = r.map(v => (v > (o.threshold ?? 0) ? v : 0))
      xHat = matmul(t.W_dec, t.b_dec, dropNeverFired(raw))
      break
    }
    default:
      throw new Error(`reference: unknown class ${cls}`)
  }
  const f = factor ? raw.map((v, j) => (factor.data[j] === 0 ? 0 : v / factor.data[j])) : raw
  if (o.normalizeToSqrtD) xHat = xHat.map(v => (v * norm) / Math.sqrt(d))
  return { f, xHat }
}

// ------------------------------------------------------------------ InterProt
// interprot/sae_model.py SparseAutoencoder: LN(x) = (x − mean) / (x.std() + 1e-5) (unbiased std),
// pre = (LN(x) − b_pre) @ w_enc + b_enc, f = scatter(relu(topk(pre, k))), x̂ = (f @ w_dec + b_pre) · std + mean

export function interprotForward(
  t: NamedRefTensors,
  x: ArrayLike<number>,
  k: number
): { f: Float64Array; xHat: Float64Array } {
  const d = x.length
  let mu = 0
  for (let i = 0; i < d; i++) mu += x[i]
  mu /= d
  let ss = 0
  for (let i = 0; i < d; i++) ss += (x[i] - mu) ** 2
  const std = Math.sqrt(ss / (d - 1))
  const xs = Float64Array.from({ length: d }, (_, i) => (x[i] - mu) / (std + 1e-5))
  const pre = matmul(t.w_enc, t.b_enc, minus(xs, t.b_pre))
  const f = topK(pre, k).map(relu)
  // topK keeps the k largest pre-activations; ReLU afterwards (negative ones among them become 0)
  const xHat = matmul(t.w_dec, t.b_pre, f).map(v => v * std + mu)
  return { f, xHat }
}

// ------------------------------------------------------------------ SAELens
// sae_lens: sae_in = x − b_dec·apply_b_dec_to_input; hidden_pre = sae_in @ W_enc + b_enc;
// standard: relu; topk: relu(topk values) scattered; jumprelu: relu(hidden_pre) · (hidden_pre > threshold);
// x̂ = f @ W_dec + b_dec

export function saelensForward(
  t: NamedRefTensors,
  x: ArrayLike<number>,
  cfg: { architecture: string; k?: number; applyBDecToInput?: boolean }
): { f: Float64Array; xHat: Float64Array } {
  const sae_in = cfg.applyBDecToInput === false ? Float64Array.from(x) : minus(x, t.b_dec)
  const pre = matmul(t.W_enc, t.b_enc, sae_in)
  let f: Float64Array
  if (cfg.architecture === 'topk') f = topK(pre, cfg.k ?? 0).map(relu)
  else if (cfg.architecture === 'jumprelu') f = pre.map((v, j) => (v > t.threshold.data[j] ? relu(v) : 0))
  else f = pre.map(relu)
  return { f, xHat: matmul(t.W_dec, t.b_dec, f) }
}
