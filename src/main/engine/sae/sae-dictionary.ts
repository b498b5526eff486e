/**
 * The state-dict layouts of the dictionary classes shared by dictionary_learning
 * (github.com/saprmarks/dictionary_learning, `dictionary.py`, `trainers/*.py`) and InterPLM
 * (github.com/ElanaPearl/InterPLM, `interplm/sae/dictionary.py`, which started as a copy of it). The file
 * formats around them differ (sae-interplm.ts: bare `.pt` files in `layer_N` folders; sae-dictionary-learning.ts:
 * `ae.pt` + `config.json` and Lightning `.ckpt`), the tensors do not. nn.Linear stores weight [out, in].
 *
 *   class                       tensors                                                encode(x)                                     decode(f)
 *   ReLUSAE / AutoEncoder       bias, encoder.{weight,bias}, decoder.weight            relu(enc(x − bias))                           dec(f) + bias
 *   ReLUSAE_Tied                encoder.{weight,bias}, decoder.{weight,bias}           relu(enc(x))                                  dec(f) (+ its bias)
 *   TopKSAE / AutoEncoderTopK   encoder.{weight,bias}, decoder.weight, b_dec, k, threshold   topk_k(relu(enc(x − b_dec)))            dec(f) + b_dec
 *   BatchTopKSAE                same tensors as TopKSAE                               r = relu(enc(x − b_dec)); r · (r > threshold)  dec(f) + b_dec
 *   JumpReLUSAE (current)       encoder.{weight,bias}, decoder.{weight,bias}, threshold [F]   z = enc(x); relu(z · (z > θ))          dec(f) (+ its bias)
 *   JumpReLUSAE (old names)     W_enc [D,F], b_enc, W_dec [F,D], b_dec, threshold [F]  z = x·W_enc + b_enc; relu(z · (z > θ))        f·W_dec + b_dec
 *   MatryoshkaBatchTopKSAE      W_enc [D,F], b_enc, W_dec [F,D], b_dec, k, threshold (one value), group_sizes
 *                                                                                      r = relu((x − b_dec)·W_enc + b_enc); r · (r > threshold)   f·W_dec + b_dec
 *
 * InterPLM adds to every class `activation_rescale_factor` [F] (features reported divided by it: the
 * "normalized" form) and `normalize_to_sqrt_d` (inputs scaled to norm √d before encoding, the
 * reconstruction scaled back). TopKSAE and BatchTopKSAE have the same tensors: which one a bare file holds
 * is taken from its config (`dict_class`), else from its name (`batch` in it: BatchTopK), else TopK, and a
 * note says so.
 */
import type { TensorArchive } from '../formats/tensor-archive'
import type { SaeActivation, SaeInputNorm, SaeWeights } from './sae-weights'
import { ShapeContext, transpose } from './sae-tensors'

export type DictionaryClass =
  | 'ReLUSAE'
  | 'ReLUSAE_Tied'
  | 'TopKSAE'
  | 'BatchTopKSAE'
  | 'JumpReLUSAE'
  | 'JumpReLUSAE (old names)'
  | 'MatryoshkaBatchTopKSAE'

/** The class a state dict holds, from its tensor names; `batchTopK` settles TopK vs BatchTopK. */
export function dictionaryClassOf(
  names: ReadonlySet<string> | ReadonlyMap<string, unknown>,
  batchTopK = false
): DictionaryClass | undefined {
  const h = (n: string): boolean => names.has(n)
  if (h('W_enc') && h('b_enc') && h('W_dec') && h('b_dec')) {
    if (h('k') || h('group_sizes')) return 'MatryoshkaBatchTopKSAE'
    if (h('threshold')) return 'JumpReLUSAE (old names)'
    return undefined
  }
  if (!h('encoder.weight') || !h('encoder.bias')) return undefined
  if (h('b_dec') && h('k')) return batchTopK ? 'BatchTopKSAE' : 'TopKSAE'
  if (h('bias') && h('decoder.weight')) return 'ReLUSAE'
  if (h('threshold') && h('decoder.bias')) return 'JumpReLUSAE'
  if (h('decoder.bias') || h('decoder.weight')) return 'ReLUSAE_Tied'
  return undefined
}

/** What each class needs, for the no-match error. */
export const DICTIONARY_TENSORS =
  'bias + encoder.* + decoder.weight (ReLU), + decoder.bias (tied / + threshold: JumpReLU), b_dec + k (TopK, BatchTopK), W_enc/W_dec/b_dec + threshold (old JumpReLU) or + k (Matryoshka)'

export type DictionaryParts = Pick<
  SaeWeights,
  | 'dIn'
  | 'dSae'
  | 'activation'
  | 'inputNorm'
  | 'preBias'
  | 'encWeight'
  | 'encBias'
  | 'featureScale'
  | 'decWeight'
  | 'decBias'
  | 'architecture'
>

export interface DictionaryOptions {
  /** Report features divided by activation_rescale_factor (InterPLM's normalized form). */
  normalizedForm: boolean
  /** The format's name for error messages, e.g. "InterPLM". */
  formatName: string
  /** k when the state dict has no `k` tensor (a Lightning checkpoint's hyper-parameters). */
  k?: number
}

/** Reads one of the classes above into the canonical parts. */
export function readDictionary(archive: TensorArchive, cls: DictionaryClass, opts: DictionaryOptions): DictionaryParts {
  const ctx = new ShapeContext(archive, `${opts.formatName} ${cls}`)
  let encWeight: Float32Array
  let encBias: Float32Array
  let decWeight: Float32Array // [F, D]
  let decBias: Float32Array
  let preBias: Float32Array
  let activation: SaeActivation
  const fromLinear = (): void => {
    encWeight = transpose(ctx.read('encoder.weight', ['d_sae', 'd_in']), ctx.size('d_sae'), ctx.size('d_in'))
    encBias = ctx.read('encoder.bias', ['d_sae'])
  }
  const linearDecoder = (): Float32Array =>
    ctx.has('decoder.weight')
      ? transpose(ctx.read('decoder.weight', ['d_in', 'd_sae']), ctx.size('d_in'), ctx.size('d_sae'))
      : transpose(encWeight, ctx.size('d_in'), ctx.size('d_sae'))
  const intScalar = (key: string): number => {
    const v = ctx.scalar(key) ?? opts.k
    if (v === undefined || !Number.isInteger(v) || v < 1)
      throw new Error(`${archive.source}: ${cls} needs a positive integer "${key}", found ${String(v)}`)
    return v
  }
  const uniform = (value: number, n: number): Float32Array => new Float32Array(n).fill(value)
  switch (cls) {
    case 'ReLUSAE':
      preBias = ctx.read('bias', ['d_in'])
      fromLinear()
      decWeight = linearDecoder()
      decBias = preBias.slice()
      activation = { kind: 'relu' }
      break
    case 'ReLUSAE_Tied':
      fromLinear()
      decWeight = linearDecoder()
      decBias = ctx.has('decoder.bias') ? ctx.read('decoder.bias', ['d_in']) : new Float32Array(ctx.size('d_in'))
      preBias = new Float32Array(ctx.size('d_in'))
      activation = { kind: 'relu' }
      break
    case 'TopKSAE':
    case 'BatchTopKSAE':
      fromLinear()
      decWeight = linearDecoder()
      preBias = ctx.read('b_dec', ['d_in'])
      decBias = preBias.slice()
      activation =
        cls === 'TopKSAE'
          ? { kind: 'topk', k: Math.min(intScalar('k'), ctx.size('d_sae')), relu: true }
          : { kind: 'jumprelu', threshold: uniform(ctx.scalar('threshold') ?? 0, ctx.size('d_sae')), relu: true }
      break
    case 'JumpReLUSAE':
      fromLinear()
      decWeight = linearDecoder()
      decBias = ctx.read('decoder.bias', ['d_in'])
      preBias = new Float32Array(ctx.size('d_in'))
      activation = { kind: 'jumprelu', threshold: ctx.read('threshold', ['d_sae']), relu: true }
      break
    case 'JumpReLUSAE (old names)':
    case 'MatryoshkaBatchTopKSAE': {
      encWeight = ctx.read('W_enc', ['d_in', 'd_sae'])
      encBias = ctx.read('b_enc', ['d_sae'])
      decWeight = ctx.read('W_dec', ['d_sae', 'd_in'])
      decBias = ctx.read('b_dec', ['d_in'])
      if (cls === 'MatryoshkaBatchTopKSAE') {
        preBias = decBias.slice()
        const t = ctx.scalar('threshold')
        if (t === undefined)
          throw new Error(
            `${archive.source}: a Matryoshka BatchTopK SAE needs its inference "threshold" (a single value); this one has none`
          )
        activation = { kind: 'jumprelu', threshold: uniform(t, ctx.size('d_sae')), relu: true }
      } else {
        preBias = new Float32Array(ctx.size('d_in'))
        activation = { kind: 'jumprelu', threshold: ctx.read('threshold', ['d_sae']), relu: true }
      }
      break
    }
  }
  const dIn = ctx.size('d_in')
  const dSae = ctx.size('d_sae')
  const featureScale = new Float32Array(dSae).fill(1)
  if (opts.normalizedForm && ctx.has('activation_rescale_factor')) {
    const factor = ctx.read('activation_rescale_factor', ['d_sae'])
    for (let j = 0; j < dSae; j++) {
      const a = factor[j]
      const row = decWeight!.subarray(j * dIn, (j + 1) * dIn)
      if (!(a > 0) || !Number.isFinite(a)) {
        // a feature that never fired in the authors' data: InterPLM would divide by 0; report 0
        featureScale[j] = 0
        row.fill(0)
        continue
      }
      featureScale[j] = 1 / a
      for (let i = 0; i < dIn; i++) row[i] *= a
    }
  }
  const inputNorm: SaeInputNorm = (ctx.scalar('normalize_to_sqrt_d') ?? 0) !== 0 ? 'sqrt-d' : 'none'
  return {
    architecture: cls,
    dIn,
    dSae,
    activation: activation!,
    inputNorm,
    preBias: preBias!,
    encWeight: encWeight!,
    encBias: encBias!,
    featureScale,
    decWeight: decWeight!,
    decBias: decBias!
  }
}

/** A view of `archive` holding only the tensors under `prefix` (the prefix removed). */
export function withPrefix(archive: TensorArchive, prefix: string): TensorArchive {
  if (prefix === '') return archive
  const tensors = new Map(
    [...archive.tensors.entries()].filter(([n]) => n.startsWith(prefix)).map(([n, t]) => [n.slice(prefix.length), t])
  )
  return { source: archive.source, tensors, close: () => archive.close() }
}
