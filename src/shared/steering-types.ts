/**
 * The steering contract between the renderer and the main process: a steering plan (which SAE features are
 * clamped, how, where), the generation settings, and a finished run with its scores. The engine
 * (src/main/engine/steer/) uses the same types. Request types are derived from their schemas
 * (src/shared/schema.ts): the app, `plm-sae serve` and `plm-sae steer` check a request with the same schema
 * and the same limits (`STEERING_LIMITS`); the engine then checks feature ids against the SAE and ranges
 * against the sequence.
 */
import {
  arrayOf,
  bool,
  featureId,
  id,
  int,
  MAX_RESIDUE,
  num,
  obj,
  oneOf,
  opt,
  refine,
  residueRange,
  sequenceText,
  str,
  text,
  ValidationError,
  type Infer
} from './schema'

/**
 * How a clamp's value is read:
 * - `absolute`: the feature is set to `value` (in the SAE's reported units);
 * - `multiple-of-max`: set to `value` × the feature's max activation in the project (needs the project's store);
 * - `add-to-natural`: `value` is added to the feature's natural activation (the result is not clipped).
 */
export const CLAMP_MODES = ['absolute', 'multiple-of-max', 'add-to-natural'] as const
export type ClampMode = (typeof CLAMP_MODES)[number]

/** Residues `start`..`end`, 1-based and inclusive (as a person counts them). */
export type ResidueRange = Infer<typeof residueRange>

export const MAX_STEERING_CLAMPS = 64
/** Sequences of one steering run (app, `plm-sae serve` and `plm-sae steer` alike). */
export const MAX_STEERING_N = 10_000
/** The limits of a steering request, the same in the app, `plm-sae serve` and `plm-sae steer`. */
export const STEERING_LIMITS = {
  clampValue: { min: -1e6, max: 1e6 },
  n: { min: 1, max: MAX_STEERING_N },
  seed: { min: 0, max: 2 ** 31 },
  temperature: { min: 0, max: 100 },
  rounds: { min: 1, max: 10_000 },
  maskFraction: { min: 1e-6, max: 1 },
  length: { min: 1, max: MAX_RESIDUE }
} as const
const L = STEERING_LIMITS

export const ClampSpecSchema = obj({
  feature: featureId,
  mode: oneOf(CLAMP_MODES),
  value: num(L.clampValue.min, L.clampValue.max),
  /** Without a range the clamp applies at every residue (never at `<cls>` / `<eos>`). */
  range: opt(residueRange)
})
export type ClampSpec = Infer<typeof ClampSpecSchema>
export const ClampListSchema = arrayOf(ClampSpecSchema, MAX_STEERING_CLAMPS)

export const GENERATION_MODES = ['edit', 'resample', 'denovo'] as const
export type GenerationMode = (typeof GENERATION_MODES)[number]

/** How the sequences are generated; de novo needs a length. */
export const GenerationSettingsSchema = refine(
  obj({
    mode: oneOf(GENERATION_MODES),
    /** Number of sequences to generate. */
    n: int(L.n.min, L.n.max),
    /** Seed of the sampler: the same seed, plan and settings give the same sequences. */
    seed: int(L.seed.min, L.seed.max),
    /** Sampling temperature over the 20 standard amino acids; 0 = argmax. */
    temperature: num(L.temperature.min, L.temperature.max),
    /** resample: rounds of masking and resampling; denovo: steps in which the masks are filled. */
    rounds: int(L.rounds.min, L.rounds.max),
    /** resample: fraction of the positions masked in each round (0 < f ≤ 1). */
    maskFraction: num(L.maskFraction.min, L.maskFraction.max),
    /** denovo: the length of the generated sequences. */
    length: opt(int(L.length.min, L.length.max))
  }),
  (g, at) => {
    if (g.mode === 'denovo' && g.length === undefined)
      throw new ValidationError(`${at}.length`, 'de novo generation needs a length (a whole number ≥ 1)')
  }
)
export type GenerationSettings = Infer<typeof GenerationSettingsSchema>

export const DEFAULT_GENERATION: GenerationSettings = {
  mode: 'edit',
  n: 1,
  seed: 1,
  temperature: 0,
  rounds: 10,
  maskFraction: 0.15
}

/** Scores of one generated sequence. */
export interface SequenceScores {
  /** Fraction of positions equal to the starting sequence (undefined for de novo). */
  identity?: number
  /**
   * Pseudo-log-likelihood under the unsteered model: Σ_i log p(x_i | x with position i masked), natural log,
   * softmax over the full 33-token vocabulary; `pllPerResidue` = pll / length. Absent when not computed.
   */
  pll?: number
  pllPerResidue?: number
  /** Per clamped feature: its mean activation over the clamp's range when the sequence is encoded again without steering. */
  featureActivation: { feature: number; mean: number }[]
  /** Matches of the motif pattern (1-based, inclusive), when one was given. */
  motifHits?: { start: number; end: number; match: string }[]
}

export interface GeneratedSequence {
  id: string
  sequence: string
  scores: SequenceScores
}

/** Identifies what a run used, for headers and exports. */
export interface SteeringProvenance {
  model: string
  modelHash: string
  sae: string
  saeHash: string
  layer: number
}

export interface SteeringRunRecord {
  id: string
  createdAt: string
  provenance: SteeringProvenance
  /** The starting sequence (empty for de novo). */
  parent: { id: string; sequence: string } | undefined
  clamps: ClampSpec[]
  /** The clamps' values as applied (multiple-of-max resolved against the project's max activations). */
  resolvedValues: number[]
  settings: GenerationSettings
  motif?: string
  sequences: GeneratedSequence[]
  /** Scores of the parent under the same measures, for comparison. */
  parentScores?: SequenceScores
}

export interface SteeringProgress {
  phase: 'generating' | 'scoring'
  done: number
  total: number
}

// ------------------------------------------------------------------------------------------- API (api.ts)

/** The clamp preview: per-position probabilities of the 20 amino acids without and with the clamps. */
export const SteeringPreviewRequestSchema = obj({
  projectId: id,
  /** Residues (one-letter code) or one FASTA record. */
  sequence: sequenceText,
  clamps: ClampListSchema
})
export type SteeringPreviewRequest = Infer<typeof SteeringPreviewRequestSchema>

export interface SteeringPreview {
  sequence: string
  /** Column order of the probability rows (the 20 standard amino acids). */
  aminoAcids: string
  residues: number
  /** [residues × 20], row-major, temperature 1. */
  unsteered: number[]
  steered: number[]
}

/** A steering run as `plm-sae steer` builds it and the app sends it (with its project). */
const steeringRequestShape = {
  /** The starting sequence (edit, resample): residues; id is a name for it (e.g. the protein's accession). */
  start: opt(obj({ id: text(200, 1), sequence: sequenceText })),
  clamps: ClampListSchema,
  settings: GenerationSettingsSchema,
  /** PROSITE pattern whose hits are scored. */
  motif: opt(text(500)),
  /** Compute the pseudo-log-likelihood (slow: one forward per residue per sequence). */
  pll: bool
}
export const SteeringRequestSchema = obj(steeringRequestShape)
export type SteeringRequest = Infer<typeof SteeringRequestSchema>
export const StartSteeringRequestSchema = obj({ projectId: id, ...steeringRequestShape })
export type StartSteeringRequest = Infer<typeof StartSteeringRequestSchema>

export interface SteeringRunSummary {
  id: string
  createdAt: string
  mode: GenerationMode
  n: number
  clamps: ClampSpec[]
  parentId?: string
}

const steeringRunRef = {
  projectId: id,
  runId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/, patternHint: 'is not a steering run id' })
}
export const SteeringRunRequestSchema = obj(steeringRunRef)
export type SteeringRunRequest = Infer<typeof SteeringRunRequestSchema>

export const STEERING_EXPORT_FORMATS = ['fasta', 'csv', 'json'] as const
export const SteeringExportRequestSchema = obj({ ...steeringRunRef, format: oneOf(STEERING_EXPORT_FORMATS) })
export type SteeringExportRequest = Infer<typeof SteeringExportRequestSchema>
