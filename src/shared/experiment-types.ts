/**
 * Steering experiments: the design (what is generated, under which conditions), the outcomes of every
 * generated sequence, and the statistics per condition. The engine (src/main/engine/experiment/) and the
 * CLI (`plm-sae experiment --design design.json`) read the same `ExperimentDesign`; `checkExperimentDesign`
 * is its one structural check (the engine then checks feature ids against the SAE and ranges against the
 * starts).
 */
import { checkClampSpecs, GENERATION_MODES, type ClampSpec, type GenerationMode } from './steering-types'

/** Where the generated sequences start. */
export type ExperimentStart =
  /** Proteins of the project's store, by accession. */
  | { kind: 'proteins'; accessions: string[] }
  /** Pasted sequences. */
  | { kind: 'sequences'; sequences: { id: string; sequence: string }[] }
  /** De novo sequences of a length (generation mode must be denovo). */
  | { kind: 'denovo'; length: number }

/** One clamp set: its clamps at dose 1 (each clamp's value is multiplied by the dose). */
export interface ClampSet {
  name?: string
  clamps: ClampSpec[]
}

/**
 * How the pseudo-log-likelihood is computed (under the unsteered model):
 * - `exact`: one forward per residue with that residue masked (L forwards per sequence);
 * - `strided`: the residues are split into `pllStride` groups (residue i in group i mod stride); each group is
 *   masked together in one forward and the log-probabilities of its residues are summed (stride forwards per
 *   sequence: an estimate that approaches the exact PLL as the stride grows; stride = L is exact);
 * - `off`: not computed.
 */
export type PllMethod = 'exact' | 'strided' | 'off'

export const PLL_METHODS: readonly PllMethod[] = ['exact', 'strided', 'off']

/** What counts as a success for the per-clamp-set summary. */
export type SuccessCriterion =
  /** At least one hit of the design's motif. */
  | { kind: 'motif' }
  /**
   * The set's target activation (mean re-encoded activation of its clamped features over their ranges) above
   * `threshold`; without one, above the 95th percentile of the no-clamp control's target activation.
   */
  | { kind: 'activation'; threshold?: number }

export interface ExperimentDesign {
  name: string
  start: ExperimentStart
  /** Today's steering settings; `n` and `seed` of steering are the experiment's. */
  generation: { mode: GenerationMode; temperature: number; rounds: number; maskFraction: number }
  /** Sequences per condition (sequence i starts from start i mod #starts). */
  n: number
  /** The sampler's seed: every condition uses it (common random numbers), sequence i its own stream. */
  seed: number
  clampSets: ClampSet[]
  /**
   * Screening: one more clamp set per candidate feature (after `clampSets`, which may then be empty): the
   * listed features and/or the top `concept.top` features by concept F1 for `concept.type` in the project;
   * each clamped with `clamp` (its feature is replaced by the candidate).
   */
  screen?: { features?: number[]; concept?: { type: string; top: number }; clamp: Omit<ClampSpec, 'feature'> }
  /** Multipliers of each clamp's value, e.g. [0.5, 1, 2, 4]. */
  doses: number[]
  controls: {
    /** The same sampling with no clamp (needed for differences and p-values). */
    noClamp: boolean
    /** Per clamp set, its features clamped to 0 (absolute) on their ranges. */
    ablation: boolean
    /** Per clamp set, this many draws of random features matched by firing frequency, at the strongest dose. */
    randomDraws: number
  }
  /** PROSITE pattern scored for every sequence. */
  motif?: string
  pll: PllMethod
  /** Groups of the strided estimate (default 8). */
  pllStride?: number
  success: SuccessCriterion
  /** Largest acceptable drop of mean PLL per residue below the no-clamp control, in nats (default 0.1). */
  likelihoodMargin?: number
  /** Bootstrap resamples (default 2000) and permutation draws (default 5000). */
  bootstrap?: number
  permutations?: number
}

export const DEFAULT_PLL_STRIDE = 8
export const DEFAULT_LIKELIHOOD_MARGIN = 0.1
export const DEFAULT_BOOTSTRAP = 2000
export const DEFAULT_PERMUTATIONS = 5000
export const MAX_EXPERIMENT_CONDITIONS = 500
export const MAX_EXPERIMENT_N = 10_000

export type ConditionKind = 'dose' | 'no-clamp' | 'ablation' | 'random'

/** One condition of an experiment, as expanded from the design (conditions.ts). */
export interface ExperimentCondition {
  index: number
  /** Stable key: "set1/dose2", "control/none", "set1/ablation", "set1/random3". */
  key: string
  kind: ConditionKind
  /** The clamp set the condition belongs to (undefined for the no-clamp control). */
  setIndex?: number
  dose?: number
  /** Random controls: the draw (1-based). */
  draw?: number
  label: string
  clamps: ClampSpec[]
}

/** Outcomes of one generated sequence. */
export interface SequenceOutcomes {
  /** Fraction of positions equal to its start (undefined for de novo). */
  identity?: number
  pll?: number
  pllPerResidue?: number
  /** Per clamp set (index): mean re-encoded activation of the set's features over their ranges. */
  targetActivation: number[]
  /** Mean re-encoded activation of this condition's own clamped features (random controls: the random ones). */
  ownActivation?: number
  /** Per random-control condition (by condition index): that condition's features' mean activation here. */
  randomActivation: Record<string, number>
  motifHits?: number
  /** Share of the most frequent residue. */
  topResidueShare: number
  /** Longest run of one residue. */
  longestRun: number
  /** Fraction of residues inside a low-complexity window (12 residues, Shannon entropy < 2.2 bits). */
  lowComplexity: number
  /** Total-variation distance of the amino-acid composition from the start's (de novo: from Swiss-Prot's). */
  compositionShift: number
  /** Mean identity to the other sequences of its condition with the same start (filled in by the summary). */
  meanPairwiseIdentity?: number
  /** Features outside the condition's clamps whose mean activation moved most from the start's (top 5). */
  changedFeatures: { feature: number; delta: number }[]
}

export interface ExperimentSequence {
  conditionIndex: number
  index: number
  startId: string
  sequence: string
  outcomes: SequenceOutcomes
}

/** Outcome names summarised per condition (numeric ones with a bootstrap interval). */
export const NUMERIC_OUTCOMES = [
  'targetActivation',
  'ownActivation',
  'pllPerResidue',
  'identity',
  'meanPairwiseIdentity',
  'topResidueShare',
  'longestRun',
  'lowComplexity',
  'compositionShift',
  'motifHits'
] as const
export type NumericOutcome = (typeof NUMERIC_OUTCOMES)[number]

export interface Interval {
  lo: number
  hi: number
}

export interface OutcomeSummary {
  n: number
  mean: number
  ci: Interval
  /** Difference of means from the no-clamp control, and its two-sided permutation p-value. */
  diff?: number
  p?: number
}

export interface RateSummary {
  successes: number
  n: number
  rate: number
  /** Wilson score interval at 95%. */
  ci: Interval
}

export interface ConditionSummary {
  condition: ExperimentCondition
  /** targetActivation is that of the condition's own clamp set (the no-clamp control: set 1); per set here. */
  outcomes: Partial<Record<NumericOutcome, OutcomeSummary>>
  targetBySet: OutcomeSummary[]
  /** Rate of sequences with at least one motif hit (when a motif was given). */
  motifRate?: RateSummary
  /** Rate of successes under the design's criterion (for conditions of a clamp set, and the control). */
  success?: RateSummary
  /** Features outside the clamps whose mean activation differs most from the no-clamp control. */
  changedFeatures: { feature: number; delta: number }[]
}

export interface ClampSetSummary {
  setIndex: number
  name: string
  /** The success threshold used (activation criterion). */
  threshold?: number
  /** The strongest dose whose mean PLL per residue is within the margin of the control (undefined: none). */
  bestDose?: number
  success?: RateSummary
  /** Effect on the target activation at the strongest dose vs the no-clamp control, and vs the random controls' mean. */
  effect?: number
  randomEffect?: number
}

export interface ExperimentProvenance {
  model: string
  modelHash: string
  sae: string
  saeHash: string
  layer: number
  /** Where firing frequencies and max activations came from. */
  featureStatistics: string
  pllMethod: string
}

export interface ExperimentSummary {
  id: string
  design: ExperimentDesign
  provenance: ExperimentProvenance
  conditions: ConditionSummary[]
  clampSets: ClampSetSummary[]
  /**
   * Screening: per clamp set, its concept F1 (when known), its effect on the target activation at the strongest
   * dose (difference from the no-clamp control, p-value) and on every other outcome; ranked by that effect.
   */
  screening: {
    setIndex: number
    name: string
    features: number[]
    f1?: number
    effect?: number
    p?: number
    effects: Partial<Record<NumericOutcome, { diff: number; p: number }>>
  }[]
  computedAt: string
}

export type ExperimentStatus = 'running' | 'complete' | 'failed'

export interface ExperimentInfo {
  id: string
  name: string
  status: ExperimentStatus
  conditions: number
  sequences: number
  done: number
  createdAt: string
  /** Last stored chunk or summary: the experiment a job just ran is the most recently updated. */
  updatedAt: string
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

/** Structural check of a design; every message names the field and says what is expected. */
export function checkExperimentDesign(d: unknown): asserts d is ExperimentDesign {
  if (typeof d !== 'object' || d === null)
    throw new Error('design: must be a JSON object (see the README, "Steering experiments")')
  const o = d as Record<string, unknown>
  if (typeof o.name !== 'string' || o.name.trim() === '')
    throw new Error('design.name: give the experiment a name (a non-empty string)')
  const s = o.start as Record<string, unknown> | undefined
  if (typeof s !== 'object' || s === null)
    throw new Error(
      'design.start: must be {kind: "proteins", accessions}, {kind: "sequences", sequences} or {kind: "denovo", length}'
    )
  if (s.kind === 'proteins') {
    if (
      !Array.isArray(s.accessions) ||
      s.accessions.length === 0 ||
      !s.accessions.every(a => typeof a === 'string' && a !== '')
    ) {
      throw new Error('design.start.accessions: a non-empty list of protein accessions of the project')
    }
  } else if (s.kind === 'sequences') {
    if (!Array.isArray(s.sequences) || s.sequences.length === 0)
      throw new Error('design.start.sequences: a non-empty list of {id, sequence}')
    s.sequences.forEach((q: unknown, i) => {
      const r = q as Record<string, unknown>
      if (
        typeof r !== 'object' ||
        r === null ||
        typeof r.id !== 'string' ||
        typeof r.sequence !== 'string' ||
        r.sequence === ''
      ) {
        throw new Error(`design.start.sequences[${i}]: must be {id: string, sequence: residues}`)
      }
    })
  } else if (s.kind === 'denovo') {
    if (!Number.isInteger(s.length) || (s.length as number) < 1)
      throw new Error(`design.start.length: de novo needs a length (whole number ≥ 1), got ${String(s.length)}`)
  } else throw new Error(`design.start.kind: one of proteins, sequences, denovo; got ${String(s.kind)}`)
  const g = o.generation as Record<string, unknown> | undefined
  if (typeof g !== 'object' || g === null)
    throw new Error('design.generation: must be {mode, temperature, rounds, maskFraction}')
  if (!GENERATION_MODES.includes(g.mode as GenerationMode))
    throw new Error(`design.generation.mode: one of ${GENERATION_MODES.join(', ')}, got ${String(g.mode)}`)
  if ((g.mode === 'denovo') !== (s.kind === 'denovo'))
    throw new Error('design.generation.mode: de novo generation goes with start.kind "denovo" (and only with it)')
  if (!isFiniteNumber(g.temperature) || g.temperature < 0)
    throw new Error(`design.generation.temperature: a number ≥ 0, got ${String(g.temperature)}`)
  if (!Number.isInteger(g.rounds) || (g.rounds as number) < 1)
    throw new Error(`design.generation.rounds: a whole number ≥ 1, got ${String(g.rounds)}`)
  if (!isFiniteNumber(g.maskFraction) || g.maskFraction <= 0 || g.maskFraction > 1)
    throw new Error(`design.generation.maskFraction: in (0, 1], got ${String(g.maskFraction)}`)
  if (!Number.isInteger(o.n) || (o.n as number) < 2 || (o.n as number) > MAX_EXPERIMENT_N)
    throw new Error(
      `design.n: sequences per condition, a whole number from 2 to ${MAX_EXPERIMENT_N}, got ${String(o.n)}`
    )
  if (!Number.isInteger(o.seed) || (o.seed as number) < 0)
    throw new Error(`design.seed: a whole number ≥ 0, got ${String(o.seed)}`)
  if (!Array.isArray(o.clampSets) || (o.clampSets.length === 0 && o.screen === undefined))
    throw new Error(
      'design.clampSets: a list of {name?, clamps: [{feature, mode, value, range?}]} (non-empty unless design.screen gives candidates)'
    )
  if (o.screen !== undefined) {
    const sc = o.screen as Record<string, unknown>
    if (typeof sc !== 'object' || sc === null)
      throw new Error('design.screen: {features?, concept?: {type, top}, clamp: {mode, value, range?}}')
    if (
      sc.features !== undefined &&
      (!Array.isArray(sc.features) || !sc.features.every(f => Number.isInteger(f) && f >= 0))
    )
      throw new Error('design.screen.features: a list of feature ids')
    const cc = sc.concept as Record<string, unknown> | undefined
    if (
      cc !== undefined &&
      (typeof cc !== 'object' ||
        cc === null ||
        typeof cc.type !== 'string' ||
        !Number.isInteger(cc.top) ||
        (cc.top as number) < 1)
    )
      throw new Error('design.screen.concept: {type: annotation type, top: whole number ≥ 1}')
    if (sc.features === undefined && cc === undefined) throw new Error('design.screen: give features and/or concept')
    try {
      checkClampSpecs([{ feature: 0, ...(sc.clamp as object) }])
    } catch (e) {
      throw new Error(`design.screen.clamp: ${(e as Error).message}`, { cause: e })
    }
  }
  o.clampSets.forEach((c: unknown, i) => {
    const r = c as Record<string, unknown>
    if (typeof r !== 'object' || r === null) throw new Error(`design.clampSets[${i}]: must be {name?, clamps}`)
    if (!Array.isArray(r.clamps) || r.clamps.length === 0)
      throw new Error(`design.clampSets[${i}].clamps: a non-empty list of clamps`)
    try {
      checkClampSpecs(r.clamps)
    } catch (e) {
      throw new Error(`design.clampSets[${i}]: ${(e as Error).message}`, { cause: e })
    }
  })
  if (!Array.isArray(o.doses) || o.doses.length === 0 || !o.doses.every(x => isFiniteNumber(x) && x >= 0)) {
    throw new Error('design.doses: a non-empty list of multipliers ≥ 0, e.g. [0.5, 1, 2, 4]')
  }
  if (new Set(o.doses).size !== o.doses.length) throw new Error('design.doses: each dose once')
  const c = o.controls as Record<string, unknown> | undefined
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.noClamp !== 'boolean' ||
    typeof c.ablation !== 'boolean' ||
    !Number.isInteger(c.randomDraws) ||
    (c.randomDraws as number) < 0
  ) {
    throw new Error('design.controls: must be {noClamp: boolean, ablation: boolean, randomDraws: whole number ≥ 0}')
  }
  if (!PLL_METHODS.includes(o.pll as PllMethod))
    throw new Error(`design.pll: one of ${PLL_METHODS.join(', ')}, got ${String(o.pll)}`)
  if (o.pllStride !== undefined && (!Number.isInteger(o.pllStride) || (o.pllStride as number) < 1))
    throw new Error(`design.pllStride: a whole number ≥ 1, got ${String(o.pllStride)}`)
  if (o.motif !== undefined && typeof o.motif !== 'string') throw new Error('design.motif: a PROSITE pattern (string)')
  const su = o.success as Record<string, unknown> | undefined
  if (typeof su !== 'object' || su === null || (su.kind !== 'motif' && su.kind !== 'activation'))
    throw new Error('design.success: {kind: "activation", threshold?} or {kind: "motif"}')
  if (su.kind === 'motif' && (typeof o.motif !== 'string' || o.motif.trim() === ''))
    throw new Error('design.success: kind "motif" needs design.motif')
  if (su.kind === 'activation' && su.threshold !== undefined && !isFiniteNumber(su.threshold))
    throw new Error('design.success.threshold: a number')
  if (o.likelihoodMargin !== undefined && (!isFiniteNumber(o.likelihoodMargin) || o.likelihoodMargin < 0))
    throw new Error('design.likelihoodMargin: nats per residue ≥ 0')
  for (const k of ['bootstrap', 'permutations'] as const) {
    if (o[k] !== undefined && (!Number.isInteger(o[k]) || (o[k] as number) < 100))
      throw new Error(`design.${k}: a whole number ≥ 100`)
  }
}

// ------------------------------------------------------------------------------------------- API (api.ts)

export interface StartExperimentRequest {
  projectId: string
  design: ExperimentDesign
}

export interface ExperimentRequest {
  projectId: string
  experimentId: string
}

export interface ExperimentSequencesRequest extends ExperimentRequest {
  conditionIndex?: number
  offset?: number
  limit?: number
}

export interface ExperimentExportRequest extends ExperimentRequest {
  format: 'csv' | 'json' | 'fasta' | 'html'
  /** FASTA: one condition (default: all, one record group per condition). */
  conditionIndex?: number
}
