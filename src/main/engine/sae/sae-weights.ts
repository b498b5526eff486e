/**
 * `SaeWeights`: a sparse autoencoder in one canonical form, whatever file format it came from (the
 * preprint's PyTorchModelHubMixin save, InterPLM's `ae_*.pt`, or our generic safetensors layout).
 *
 *   s      = normalizeToSqrtD ? sqrt(dIn) / ||x|| : 1                       (per row)
 *   encode(x) = act((x·s − preBias) · encWeight + encBias) ⊙ featureScale    → f [dSae]
 *   decode(f) = (f · decWeight + decBias) / s                                → x̂ [dIn]
 *
 * `act` is ReLU, TopK (keep the k largest pre-activations, then ReLU) or JumpReLU (keep z where z > threshold).
 * `featureScale` is the unit the SAE reports its features in (InterPLM's normalized form divides by
 * `activation_rescale_factor`); `decWeight` is stored already multiplied back, so decode(encode(x)) is the
 * reconstruction in every format. Feature values shown anywhere in the app are `encode(x)`.
 */
export type SaeFormat = 'preprint' | 'interplm' | 'generic'

export type SaeActivation = { kind: 'relu' } | { kind: 'topk'; k: number } | { kind: 'jumprelu'; threshold: Float32Array }

export interface SaeWeights {
  /** The folder or file it was loaded from. */
  source: string
  format: SaeFormat
  /** sha256 of the weight file(s): identifies the SAE in the store. */
  hash: string
  /** A short human name (folder name, or the hub repository and sub-path). */
  name: string
  dIn: number
  dSae: number
  /** The model layer it reads, in Hugging Face hidden_states numbering (0 = embeddings); undefined when the files do not say. */
  layer: number | undefined
  activation: SaeActivation
  normalizeToSqrtD: boolean
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
}
