/**
 * The steering contract between the renderer and the main process: plain types for a steering plan (which SAE
 * features are clamped, how, where), the generation settings, and a finished run with its scores. The engine
 * (src/main/engine/steer/) uses the same types; the checks here are the structural ones a request must pass
 * before it reaches the engine (the engine then checks feature ids against the SAE and ranges against the
 * sequence).
 */

/**
 * How a clamp's value is read:
 * - `absolute`: the feature is set to `value` (in the SAE's reported units);
 * - `multiple-of-max`: set to `value` × the feature's max activation in the project (needs the project's store);
 * - `add-to-natural`: `value` is added to the feature's natural activation (the result is not clipped).
 */
export type ClampMode = 'absolute' | 'multiple-of-max' | 'add-to-natural'

export const CLAMP_MODES: readonly ClampMode[] = ['absolute', 'multiple-of-max', 'add-to-natural']

/** Residues `start`..`end`, 1-based and inclusive (as a person counts them). */
export interface ResidueRange {
  start: number
  end: number
}

export interface ClampSpec {
  feature: number
  mode: ClampMode
  value: number
  /** Without a range the clamp applies at every residue (never at `<cls>` / `<eos>`). */
  range?: ResidueRange
}

export type GenerationMode = 'edit' | 'resample' | 'denovo'

export const GENERATION_MODES: readonly GenerationMode[] = ['edit', 'resample', 'denovo']

export interface GenerationSettings {
  mode: GenerationMode
  /** Number of sequences to generate. */
  n: number
  /** Seed of the sampler: the same seed, plan and settings give the same sequences. */
  seed: number
  /** Sampling temperature over the 20 standard amino acids; 0 = argmax. */
  temperature: number
  /** resample: rounds of masking and resampling; denovo: steps in which the masks are filled. */
  rounds: number
  /** resample: fraction of the positions masked in each round (0 < f ≤ 1). */
  maskFraction: number
  /** denovo: the length of the generated sequences. */
  length?: number
}

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

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

/** Structural check of a clamp list (types, finite numbers, integer ids, ordered ranges); throws a message naming the clamp. */
export function checkClampSpecs(clamps: unknown): asserts clamps is ClampSpec[] {
  if (!Array.isArray(clamps)) throw new Error('clamps must be a list')
  clamps.forEach((c: unknown, i) => {
    const where = `clamp ${i + 1}`
    if (typeof c !== 'object' || c === null) throw new Error(`${where}: not an object`)
    const o = c as Record<string, unknown>
    if (!Number.isInteger(o.feature) || (o.feature as number) < 0)
      throw new Error(`${where}: feature id must be a whole number ≥ 0, got ${String(o.feature)}`)
    if (!CLAMP_MODES.includes(o.mode as ClampMode))
      throw new Error(
        `${where} (feature ${String(o.feature)}): mode must be one of ${CLAMP_MODES.join(', ')}, got ${String(o.mode)}`
      )
    if (!isFiniteNumber(o.value))
      throw new Error(`${where} (feature ${String(o.feature)}): value must be a finite number, got ${String(o.value)}`)
    if (o.range !== undefined) {
      const r = o.range as Record<string, unknown>
      if (typeof r !== 'object' || r === null || !Number.isInteger(r.start) || !Number.isInteger(r.end)) {
        throw new Error(
          `${where} (feature ${String(o.feature)}): range must be {start, end} with whole residue numbers`
        )
      }
      if ((r.start as number) < 1 || (r.end as number) < (r.start as number)) {
        throw new Error(
          `${where} (feature ${String(o.feature)}): range ${String(r.start)}-${String(r.end)} is not a residue range (1-based, start ≤ end)`
        )
      }
    }
  })
}

/** Structural check of generation settings. */
export function checkGenerationSettings(s: unknown): asserts s is GenerationSettings {
  if (typeof s !== 'object' || s === null) throw new Error('generation settings must be an object')
  const o = s as Record<string, unknown>
  if (!GENERATION_MODES.includes(o.mode as GenerationMode))
    throw new Error(`mode must be one of ${GENERATION_MODES.join(', ')}, got ${String(o.mode)}`)
  if (!Number.isInteger(o.n) || (o.n as number) < 1 || (o.n as number) > 100_000)
    throw new Error(`n must be a whole number from 1 to 100000, got ${String(o.n)}`)
  if (!Number.isInteger(o.seed)) throw new Error(`seed must be a whole number, got ${String(o.seed)}`)
  if (!isFiniteNumber(o.temperature) || o.temperature < 0)
    throw new Error(`temperature must be a number ≥ 0 (0 = argmax), got ${String(o.temperature)}`)
  if (!Number.isInteger(o.rounds) || (o.rounds as number) < 1)
    throw new Error(`rounds must be a whole number ≥ 1, got ${String(o.rounds)}`)
  if (!isFiniteNumber(o.maskFraction) || o.maskFraction <= 0 || o.maskFraction > 1)
    throw new Error(`mask fraction must be in (0, 1], got ${String(o.maskFraction)}`)
  if (o.mode === 'denovo' && (!Number.isInteger(o.length) || (o.length as number) < 1))
    throw new Error(`de novo generation needs a length (a whole number ≥ 1), got ${String(o.length)}`)
}

// ------------------------------------------------------------------------------------------- API (api.ts)

/** The clamp preview: per-position probabilities of the 20 amino acids without and with the clamps. */
export interface SteeringPreviewRequest {
  projectId: string
  /** Residues (one-letter code) or one FASTA record. */
  sequence: string
  clamps: ClampSpec[]
}

export interface SteeringPreview {
  sequence: string
  /** Column order of the probability rows (the 20 standard amino acids). */
  aminoAcids: string
  residues: number
  /** [residues × 20], row-major, temperature 1. */
  unsteered: number[]
  steered: number[]
}

export interface StartSteeringRequest {
  projectId: string
  /** The starting sequence (edit, resample): residues; id is a name for it (e.g. the protein's accession). */
  start?: { id: string; sequence: string }
  clamps: ClampSpec[]
  settings: GenerationSettings
  /** PROSITE pattern whose hits are scored. */
  motif?: string
  /** Compute the pseudo-log-likelihood (slow: one forward per residue per sequence). */
  pll: boolean
}

export interface SteeringRunSummary {
  id: string
  createdAt: string
  mode: GenerationMode
  n: number
  clamps: ClampSpec[]
  parentId?: string
}

export interface SteeringRunRequest {
  projectId: string
  runId: string
}

export interface SteeringExportRequest extends SteeringRunRequest {
  format: 'fasta' | 'csv' | 'json'
}

export const MAX_STEERING_CLAMPS = 64
export const MAX_STEERING_N = 10_000
