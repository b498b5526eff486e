/**
 * `SaeWeights`: a sparse autoencoder in one canonical form, whatever file format it came from (the format
 * providers of sae-formats.ts each read one published layout into it).
 *
 *   per row x:  (shift, scale, outScale) = inputNorm:
 *                 'none'        → (0, 1, 1)
 *                 'sqrt-d'      → (0, √dIn / max(||x||, 1e-8), 1 / scale)                  (InterPLM, Anthropic)
 *                 'standardize' → (mean(x), 1 / (std(x) + 1e-5), std(x)), std unbiased (n − 1)  (InterProt)
 *   encode(x) = act(((x − shift)·scale − preBias) · encWeight + encBias) ⊙ featureScale   → f [dSae]
 *   decode(f) = (f · decWeight + decBias) · outScale + shift                              → x̂ [dIn]
 *
 * `act`:
 *   relu                    max(z, 0)
 *   topk(k, relu)           the k largest z (ties: lower index first) kept, the rest 0; then ReLU when `relu`
 *   jumprelu(θ, relu)       z where z > θ_j, else 0; then ReLU when `relu` (a BatchTopK SAE at inference
 *                           is jumprelu with one θ for every feature and relu = true)
 * `featureScale` is the unit the SAE reports its features in (InterPLM's normalized form divides by
 * `activation_rescale_factor`; a feature that never fired has scale 0, so it reports 0, never NaN);
 * `decWeight` is stored already multiplied back, so decode(encode(x)) is the reconstruction in every format.
 * A tied SAE (one matrix) is stored with decWeight = encWeightᵀ. Feature values shown anywhere in the app are
 * `encode(x)`.
 */
export type SaeFormat = 'generic' | 'preprint' | 'interplm' | 'interprot' | 'saelens' | 'dictionary-learning'

export type SaeInputNorm = 'none' | 'sqrt-d' | 'standardize'

export type SaeActivation =
  | { kind: 'relu' }
  | { kind: 'topk'; k: number; relu: boolean }
  | { kind: 'jumprelu'; threshold: Float32Array; relu: boolean }

/** The eps InterProt adds to the row's standard deviation. */
export const STANDARDIZE_EPS = 1e-5

export interface SaeWeights {
  /** The folder or file it was loaded from. */
  source: string
  format: SaeFormat
  /** The architecture inside the format, in the authors' words (e.g. "InterPLM TopKSAE"). */
  architecture?: string
  /** sha256 of the weight file(s): identifies the SAE in the store. */
  hash: string
  /** A short human name (folder name, or the hub repository and sub-path). */
  name: string
  dIn: number
  dSae: number
  /** The model layer it reads, in Hugging Face hidden_states numbering (0 = embeddings); undefined when the files do not say. */
  layer: number | undefined
  activation: SaeActivation
  inputNorm: SaeInputNorm
  /** [dIn] */
  preBias: Float32Array
  /** [dIn, dSae], row-major. */
  encWeight: Float32Array
  /** [dSae] */
  encBias: Float32Array
  /** [dSae] multiplier of the activations (all ones unless the format rescales). */
  featureScale: Float32Array
  /** [dSae, dIn], row-major: row j is feature j's decoder direction in the reported units. */
  decWeight: Float32Array
  /** [dIn] */
  decBias: Float32Array
  /** What the loader had to decide that the files do not say (e.g. "k = 128: the InterProt loader's default"). */
  notes?: string[]
}

/** A short description of the encoder, e.g. "topk k=64 (ReLU), standardized input". */
export function describeEncoder(sae: Pick<SaeWeights, 'activation' | 'inputNorm'>): string {
  const a = sae.activation
  const act =
    a.kind === 'relu'
      ? 'ReLU'
      : a.kind === 'topk'
        ? `top-k k=${a.k}${a.relu ? ' + ReLU' : ''}`
        : `JumpReLU${a.relu ? ' + ReLU' : ''}`
  const norm =
    sae.inputNorm === 'none'
      ? ''
      : sae.inputNorm === 'sqrt-d'
        ? ', input scaled to norm √d'
        : ', input standardized per row'
  return act + norm
}
