/**
 * Steering experiments: the design (what is generated, under which conditions), the outcomes of every
 * generated sequence, and the statistics per condition. The engine (src/main/engine/experiment/) and the
 * CLI (`plm-sae experiment --design design.json`) read the same `ExperimentDesign`, derived from its schema
 * `ExperimentDesignSchema` (every field, then the cross-field rules); `checkExperimentDesign` checks a design
 * with it (the engine then checks feature ids against the SAE and ranges against the starts).
 */
import {
  arrayOf,
  bool,
  featureId,
  id,
  int,
  literal,
  MAX_RESIDUE,
  num,
  obj,
  oneOf,
  opt,
  parse,
  refine,
  residueRange,
  sequenceText,
  str,
  tagged,
  text,
  ValidationError,
  type Infer
} from './schema'
import { ClampListSchema, CLAMP_MODES, GENERATION_MODES, STEERING_LIMITS, type ClampSpec } from './steering-types'
import { ANNOTATION_TYPES } from './store-types'

/** Where the generated sequences start. */
export const ExperimentStartSchema = tagged('kind', {
  /** Proteins of the project's store, by accession. */
  proteins: obj({ kind: literal('proteins'), accessions: arrayOf(text(200, 1), 1000) }),
  /** Pasted sequences. */
  sequences: obj({
    kind: literal('sequences'),
    sequences: arrayOf(obj({ id: text(200, 1), sequence: sequenceText }), 1000)
  }),
  /** De novo sequences of a length (generation mode must be denovo). */
  denovo: obj({ kind: literal('denovo'), length: int(1, MAX_RESIDUE) })
})
export type ExperimentStart = Infer<typeof ExperimentStartSchema>

/** One clamp set: its clamps at dose 1 (each clamp's value is multiplied by the dose). */
export const ClampSetSchema = obj({ name: opt(text(200)), clamps: ClampListSchema })
export type ClampSet = Infer<typeof ClampSetSchema>

/**
 * How the pseudo-log-likelihood is computed (under the unsteered model):
 * - `exact`: one forward per residue with that residue masked (L forwards per sequence);
 * - `strided`: the residues are split into `pllStride` groups (residue i in group i mod stride); each group is
 *   masked together in one forward and the log-probabilities of its residues are summed (stride forwards per
 *   sequence: an estimate that approaches the exact PLL as the stride grows; stride = L is exact);
 * - `off`: not computed.
 */
export const PLL_METHODS = ['exact', 'strided', 'off'] as const
export type PllMethod = (typeof PLL_METHODS)[number]

/**
 * What counts as a success for the per-clamp-set summary: `motif`, at least one hit of the design's motif;
 * `activation`, the set's target activation (mean re-encoded activation of its clamped features over their
 * ranges) above `threshold`; without one, above the 95th percentile of the no-clamp control's target activation.
 */
export const SuccessCriterionSchema = tagged('kind', {
  motif: obj({ kind: literal('motif') }),
  activation: obj({ kind: literal('activation'), threshold: opt(num(-1e9, 1e9)) })
})
export type SuccessCriterion = Infer<typeof SuccessCriterionSchema>

const G = STEERING_LIMITS
export const MAX_EXPERIMENT_N = 10_000

const designHeadShape = {
  name: text(200, 1),
  start: ExperimentStartSchema,
  /** Today's steering settings; `n` and `seed` of steering are the experiment's. */
  generation: obj({
    mode: oneOf(GENERATION_MODES),
    temperature: num(G.temperature.min, G.temperature.max),
    rounds: int(G.rounds.min, G.rounds.max),
    maskFraction: num(G.maskFraction.min, G.maskFraction.max)
  })
}
/** What is generated, checked first (a start that does not fit the mode is named before any later field). */
const designHead = refine(obj(designHeadShape), (d, at) => {
  if ((d.generation.mode === 'denovo') !== (d.start.kind === 'denovo'))
    throw new ValidationError(
      `${at}.generation.mode`,
      'de novo generation goes with start.kind "denovo" (and only with it)'
    )
})

const experimentDesignShape = obj({
  ...designHeadShape,
  /** Sequences per condition (sequence i starts from start i mod #starts). */
  n: int(2, MAX_EXPERIMENT_N),
  /** The sampler's seed: every condition uses it (common random numbers), sequence i its own stream. */
  seed: int(G.seed.min, G.seed.max),
  clampSets: arrayOf(ClampSetSchema, 1000),
  /**
   * Screening: one more clamp set per candidate feature (after `clampSets`, which may then be empty): the
   * listed features and/or the top `concept.top` features by concept F1 for `concept.type` in the project;
   * each clamped with `clamp` (its feature is replaced by the candidate).
   */
  screen: opt(
    obj({
      features: opt(arrayOf(featureId, 1000)),
      concept: opt(obj({ type: oneOf(ANNOTATION_TYPES), top: int(1, 1000) })),
      clamp: obj({
        mode: oneOf(CLAMP_MODES),
        value: num(G.clampValue.min, G.clampValue.max),
        range: opt(residueRange)
      })
    })
  ),
  /** Multipliers of each clamp's value, e.g. [0.5, 1, 2, 4]. */
  doses: arrayOf(num(0, 1e6), 100),
  controls: obj({
    /** The same sampling with no clamp (needed for differences and p-values). */
    noClamp: bool,
    /** Per clamp set, its features clamped to 0 (absolute) on their ranges. */
    ablation: bool,
    /** Per clamp set, this many draws of random features matched by firing frequency, at the strongest dose. */
    randomDraws: int(0, 100)
  }),
  /** PROSITE pattern scored for every sequence. */
  motif: opt(text(500)),
  pll: oneOf(PLL_METHODS),
  /** Groups of the strided estimate (default 8). */
  pllStride: opt(int(1, 10_000)),
  success: SuccessCriterionSchema,
  /** Largest acceptable drop of mean PLL per residue below the no-clamp control, in nats (default 0.1). */
  likelihoodMargin: opt(num(0, 1e6)),
  /** Bootstrap resamples (default 2000) and permutation draws (default 5000). */
  bootstrap: opt(int(100, 100_000)),
  permutations: opt(int(100, 1_000_000))
})

/** A design: what is generated, every field, then the rules across fields. */
export const ExperimentDesignSchema = refine(
  (value: unknown, at: string) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const { name, start, generation } = value as Record<string, unknown>
      designHead({ name, start, generation }, at)
    }
    return experimentDesignShape(value, at)
  },
  (d, at) => {
    const fail = (field: string, message: string): never => {
      throw new ValidationError(`${at}.${field}`, message)
    }
    if (d.name.trim() === '') fail('name', 'give the experiment a name (a non-empty string)')
    if (d.start.kind === 'proteins' && d.start.accessions.length === 0)
      fail('start.accessions', 'a non-empty list of protein accessions of the project')
    if (d.start.kind === 'sequences' && d.start.sequences.length === 0)
      fail('start.sequences', 'a non-empty list of {id, sequence}')
    if (d.clampSets.length === 0 && d.screen === undefined)
      fail(
        'clampSets',
        'a list of {name?, clamps: [{feature, mode, value, range?}]} (non-empty unless design.screen gives candidates)'
      )
    if (d.screen && d.screen.features === undefined && d.screen.concept === undefined)
      fail('screen', 'give features and/or concept')
    d.clampSets.forEach((c, i) => {
      if (c.clamps.length === 0) fail(`clampSets[${i}].clamps`, 'a non-empty list of clamps')
    })
    if (d.doses.length === 0) fail('doses', 'a non-empty list of multipliers ≥ 0, e.g. [0.5, 1, 2, 4]')
    if (new Set(d.doses).size !== d.doses.length) fail('doses', 'each dose once')
    if (d.success.kind === 'motif' && (d.motif === undefined || d.motif.trim() === ''))
      fail('success', 'kind "motif" needs design.motif')
  }
)
export type ExperimentDesign = Infer<typeof ExperimentDesignSchema>

export const DEFAULT_PLL_STRIDE = 8
export const DEFAULT_LIKELIHOOD_MARGIN = 0.1
export const DEFAULT_BOOTSTRAP = 2000
export const DEFAULT_PERMUTATIONS = 5000
export const MAX_EXPERIMENT_CONDITIONS = 500

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

/** Checks a design (ExperimentDesignSchema); errors name the field, e.g. "design.doses: each dose once". */
export function checkExperimentDesign(d: unknown): asserts d is ExperimentDesign {
  parse(ExperimentDesignSchema, d, 'design')
}

// ------------------------------------------------------------------------------------------- API (api.ts)

export const StartExperimentRequestSchema = obj({ projectId: id, design: ExperimentDesignSchema })
export type StartExperimentRequest = Infer<typeof StartExperimentRequestSchema>

const experimentRef = {
  projectId: id,
  experimentId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9_-]+$/, patternHint: 'is not an experiment id' })
}
export const ExperimentRequestSchema = obj(experimentRef)
export type ExperimentRequest = Infer<typeof ExperimentRequestSchema>

export const ExperimentSequencesRequestSchema = obj({
  ...experimentRef,
  conditionIndex: opt(int(0, 100_000)),
  offset: opt(int(0, 100_000_000)),
  limit: opt(int(1, 100_000))
})
export type ExperimentSequencesRequest = Infer<typeof ExperimentSequencesRequestSchema>

export const EXPERIMENT_EXPORT_FORMATS = ['csv', 'json', 'fasta', 'html'] as const
export const ExperimentExportRequestSchema = obj({
  ...experimentRef,
  format: oneOf(EXPERIMENT_EXPORT_FORMATS),
  /** FASTA: one condition (default: all, one record group per condition). */
  conditionIndex: opt(int(0, 100_000))
})
export type ExperimentExportRequest = Infer<typeof ExperimentExportRequestSchema>
