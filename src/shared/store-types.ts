/**
 * The plain-data contract of the latent store (`LatentStore`, src/main/engine/store) as seen by the UI:
 * everything here crosses IPC / HTTP as JSON, so only plain objects, strings, numbers, booleans, arrays, null.
 *
 * Conventions
 * - Residue positions are 1-based and inclusive (as in UniProt and PDB numbering): residue 1 is the first.
 *   Per-residue arrays (`activations`) are 0-based: `activations[i]` belongs to residue i + 1.
 * - A "run" is one indexing of the project's proteins with one model + SAE + layer. Queries take an optional
 *   `runId`; when it is omitted the most recent complete run is used.
 * - Feature ids are the SAE's latent indices, 0 .. dSae − 1.
 * - Activation values are the SAE's `encode(x)` in the SAE's reported units.
 *
 * This file is a stable contract: extend it compatibly (new optional fields, new union members), never rename.
 * Query types are derived from their schemas (src/shared/schema.ts), which the API checks requests with.
 */
import {
  arrayOf,
  either,
  featureId,
  fraction,
  id,
  int,
  longText,
  MAX_FEATURE_ID,
  MAX_REPORT_TEXT,
  num,
  obj,
  oneOf,
  opt,
  residueRange,
  runId,
  sequenceText,
  text,
  type Infer,
  type InferShape
} from './schema'

// ---------------------------------------------------------------------------------------------------------
// Annotations

/** Residue annotation types, from UniProt FT keys (old and current names map to the same type). */
export const ANNOTATION_TYPES = [
  'helix',
  'strand',
  'turn',
  'transmembrane',
  'intramembrane',
  'topological_domain',
  'signal_peptide',
  'transit_peptide',
  'propeptide',
  'chain',
  'peptide',
  'domain',
  'repeat',
  'region',
  'coiled_coil',
  'compositional_bias',
  'motif',
  'zinc_finger',
  'dna_binding',
  'nucleotide_binding',
  'calcium_binding',
  'binding_site',
  'active_site',
  'metal',
  'site',
  'modified_residue',
  'lipidation',
  'glycosylation',
  'disulfide_bond',
  'cross_link',
  'non_standard_residue',
  'initiator_methionine',
  'mutagenesis',
  'variant',
  'splice_variant',
  'conflict',
  'other'
] as const

export type AnnotationType = (typeof ANNOTATION_TYPES)[number]

/** Human names for the annotation types (for table headers and legends). */
export const ANNOTATION_LABELS: Record<AnnotationType, string> = {
  helix: 'Helix',
  strand: 'Beta strand',
  turn: 'Turn',
  transmembrane: 'Transmembrane',
  intramembrane: 'Intramembrane',
  topological_domain: 'Topological domain',
  signal_peptide: 'Signal peptide',
  transit_peptide: 'Transit peptide',
  propeptide: 'Propeptide',
  chain: 'Chain',
  peptide: 'Peptide',
  domain: 'Domain',
  repeat: 'Repeat',
  region: 'Region',
  coiled_coil: 'Coiled coil',
  compositional_bias: 'Compositional bias',
  motif: 'Motif',
  zinc_finger: 'Zinc finger',
  dna_binding: 'DNA binding',
  nucleotide_binding: 'Nucleotide binding',
  calcium_binding: 'Calcium binding',
  binding_site: 'Binding site',
  active_site: 'Active site',
  metal: 'Metal binding',
  site: 'Site',
  modified_residue: 'Modified residue',
  lipidation: 'Lipidation',
  glycosylation: 'Glycosylation',
  disulfide_bond: 'Disulfide bond',
  cross_link: 'Cross-link',
  non_standard_residue: 'Non-standard residue',
  initiator_methionine: 'Initiator methionine',
  mutagenesis: 'Mutagenesis',
  variant: 'Natural variant',
  splice_variant: 'Alternative sequence',
  conflict: 'Sequence conflict',
  other: 'Other'
}

/**
 * The annotation types used as "concepts" for feature ↔ annotation association (per-residue properties of the
 * protein itself; chains, variants, conflicts and the like are not concepts).
 */
const NOT_CONCEPTS: readonly AnnotationType[] = [
  'chain',
  'peptide',
  'non_standard_residue',
  'initiator_methionine',
  'mutagenesis',
  'variant',
  'splice_variant',
  'conflict',
  'other'
]
export const CONCEPT_TYPES: readonly AnnotationType[] = ANNOTATION_TYPES.filter(t => !NOT_CONCEPTS.includes(t))

/**
 * Concepts that are properties of single residues: their per-domain recall is their residue recall (as in
 * InterPLM, whose per-residue concepts are active sites, cofactors, glycosylation, modified residues and
 * disulfide bonds; binding and metal sites, other sites, lipidation and cross-links are added here).
 */
export const PER_RESIDUE_CONCEPT_TYPES: readonly AnnotationType[] = [
  'active_site',
  'binding_site',
  'metal',
  'site',
  'modified_residue',
  'lipidation',
  'glycosylation',
  'disulfide_bond',
  'cross_link'
]

/** Where concept association counts false positives. */
export const FALSE_POSITIVE_SCOPES = ['annotated', 'all'] as const
export type FalsePositiveScope = (typeof FALSE_POSITIVE_SCOPES)[number]

/** How concepts are scored (chosen at indexing, recorded with the run's statistics). */
export interface ConceptScoring {
  /**
   * 'annotated' (default): residues above threshold count as predicted only on proteins with at least one
   * concept annotation; 'all': on every indexed protein (InterPLM's way).
   */
  falsePositives: FalsePositiveScope
  /** Types also scored per note / ligand ("metal" → "metal: Zn(2+)", "metal: Mg(2+)"), besides the whole type. */
  splitTypes: AnnotationType[]
  /** Concepts (whole types and notes) with fewer annotation instances in the run are not scored. */
  minInstances: number
}

/** Concepts split by note or ligand, with a minimum instance count (the app's and the API's part of ConceptScoring). */
export const ConceptSplitSchema = obj({
  splitTypes: arrayOf(oneOf(CONCEPT_TYPES), CONCEPT_TYPES.length),
  minInstances: int(1, 100_000_000)
})
export type ConceptSplit = Pick<ConceptScoring, 'splitTypes' | 'minInstances'>

/** Which concept metric ranks features: residue F1, or InterPLM's F1 with per-domain recall. */
export type ConceptMetric = 'residue' | 'domain'

export interface ResidueAnnotation {
  type: AnnotationType
  /** First residue (1-based, inclusive). */
  start: number
  /** Last residue (1-based, inclusive); equals `start` for single-residue sites. */
  end: number
  /**
   * True for pairwise features (disulfide bonds, cross-links between two residues): only `start` and `end`
   * carry the annotation, not the residues between them.
   */
  pairwise?: boolean
  /** The position is uncertain or extends beyond the sequence ('<', '>' or '?' in UniProt). */
  startUncertain?: boolean
  endUncertain?: boolean
  /** UniProt's note / description, e.g. "Cytoplasmic", "Zn(2+)", "SH3". Empty when none. */
  description: string
  /** The original FT key, e.g. "TOPO_DOM", "Topological domain". */
  key?: string
}

// ---------------------------------------------------------------------------------------------------------
// Proteins

export interface ProteinSummary {
  /** The store's id of the protein (stable within a store). */
  id: number
  /** Primary accession (UniProt AC) or the FASTA id. */
  accession: string
  /** Entry name or recommended name ("CRU4_ARATH", "12S seed storage protein CRU4"); may be ''. */
  name: string
  /** Source organism ('' when unknown). */
  organism: string
  length: number
}

export interface ProteinDetail extends ProteinSummary {
  sequence: string
  /** FASTA description line or UniProt DE recommended name ('' when none). */
  description: string
  annotations: ResidueAnnotation[]
}

export const proteinListQueryShape = {
  /** Case-insensitive substring of accession, name, organism or description. */
  text: opt(text(200)),
  offset: opt(int(0, 100_000_000)),
  /** Default 100, at most 1000. */
  limit: opt(int(1, 1000))
}
export type ProteinListQuery = InferShape<typeof proteinListQueryShape>

export interface ProteinListResult {
  total: number
  offset: number
  items: ProteinSummary[]
}

// ---------------------------------------------------------------------------------------------------------
// Runs

export const RUN_STATUSES = ['indexing', 'statistics', 'complete', 'cancelled', 'failed'] as const
export type RunStatus = (typeof RUN_STATUSES)[number]

export interface RunInfo {
  id: number
  modelName: string
  /** Content hash of the model weights. */
  modelHash: string
  saeName: string
  saeHash: string
  /** Model layer the SAE reads (HF numbering). */
  layer: number
  dSae: number
  /** Indexing settings (top-k, thresholds, input file, ...). */
  settings: Record<string, unknown>
  status: RunStatus
  /** ISO 8601 timestamps. */
  createdAt: string
  updatedAt: string
  /** Proteins with stored latents in this run. */
  proteins: number
  residues: number
  /** True when the per-feature statistics cover every stored protein of the run. */
  statsUpToDate: boolean
  /**
   * Present when the run is complete but its results look wrong (e.g. no feature ever fired, or far more
   * features fire per residue than the SAE allows): sentences for the user.
   */
  warnings?: string[]
}

export interface StoreInfo {
  path: string
  schemaVersion: number
  proteins: number
  residues: number
  /** Size of the store file(s) in bytes. */
  bytes: number
  runs: RunInfo[]
}

// ---------------------------------------------------------------------------------------------------------
// Features

export interface BestConcept {
  type: AnnotationType
  /** The note / ligand of a split concept ("Zn(2+)"); absent or '' for the whole type. */
  note?: string
  f1: number
  precision: number
  recall: number
  /** Threshold as a fraction of the feature's max activation. */
  threshold: number
}

export interface FeatureSummary {
  /** Feature id (latent index). */
  id: number
  /** User label ('' when none). */
  label: string
  bestConcept: BestConcept | null
  /** Fraction of residues on which the feature fires (> 0). */
  freqResidue: number
  /** Fraction of proteins with at least one firing residue. */
  freqProtein: number
  /** Max activation over all residues (0 for dead features). */
  max: number
  /** Mean of the nonzero activations (0 for dead features). */
  meanNonzero: number
  /** Never fires in the indexed proteins. */
  dead: boolean
  /** Small histogram of the nonzero activations over [0, max] (`SMALL_HISTOGRAM_BINS` equal bins). */
  histogram: number[]
  /** True when the user wrote notes. */
  hasNotes: boolean
  /**
   * Best concept by InterPLM's F1 (residue precision, per-domain recall); null when none, or when the
   * statistics were computed before this metric existed.
   */
  bestConceptDomain?: BestConcept | null
  /** The label card generated from the statistics (no LLM); '' when none. Shown when `label` is ''. */
  generatedLabel?: string
}

export const SMALL_HISTOGRAM_BINS = 16

export interface FeatureStats {
  totalResidues: number
  totalProteins: number
  firingResidues: number
  firingProteins: number
  freqResidue: number
  freqProtein: number
  max: number
  meanNonzero: number
  /** Standard deviation of the nonzero activations. */
  stdNonzero: number
}

export interface Histogram {
  /** Bin edges, length counts.length + 1, increasing. */
  edges: number[]
  counts: number[]
}

export interface Quantile {
  /** Probability in [0, 1]. */
  p: number
  /** Activation value at p over the nonzero activations. */
  value: number
}

/** One protein's activations of one feature. */
export interface FeatureProteinActivation {
  protein: ProteinSummary
  sequence: string
  /** Max activation of the feature in this protein. */
  max: number
  /** Mean over all residues (zeros included). */
  mean: number
  /** Residue (1-based) of the max. */
  argmax: number
  firingResidues: number
  /** Per residue, length = protein length (0 where it does not fire). */
  activations: number[]
  annotations: ResidueAnnotation[]
}

/** InterPLM-style samples: proteins whose max activation falls in an activation-quantile bucket. */
export interface QuantileBucketSample {
  /** Bucket index, 0 = lowest. */
  bucket: number
  /** Range of per-protein max activation of the bucket [lower, upper]. */
  lower: number
  upper: number
  proteins: FeatureProteinActivation[]
}

/** One row of a feature's concept association table. */
export interface ConceptAssociation {
  type: AnnotationType
  /** Best threshold (fraction of the feature's max). */
  threshold: number
  precision: number
  recall: number
  f1: number
  /** Residues above threshold that carry the annotation (at the best threshold). */
  truePositives: number
  /** Residues above threshold (at the best threshold). */
  predicted: number
  /** Residues carrying the annotation (in the proteins that have annotations). */
  positives: number
  /** F1 at every threshold evaluated (with InterPLM's per-domain recall and F1 when computed). */
  byThreshold: ConceptThresholdScore[]
  /** The note / ligand of a split concept; '' for the whole type. */
  note?: string
  /** A per-residue concept: per-domain recall is the residue recall. */
  perResidue?: boolean
  /**
   * InterPLM's metric at its own best threshold (best F1 with per-domain recall, ties by residue F1):
   * an annotation instance is found when at least one of its residues is above threshold.
   * Absent for statistics computed before this metric existed.
   */
  domain?: ConceptDomainScore
}

/** A concept's scores at one threshold (with InterPLM's per-domain recall and F1 when computed). */
export interface ConceptThresholdScore {
  threshold: number
  precision: number
  recall: number
  f1: number
  recallDomain?: number
  f1Domain?: number
}

/** InterPLM's per-domain metric of a concept at its own best threshold. */
export interface ConceptDomainScore {
  threshold: number
  precision: number
  /** Instances found / instances. */
  recall: number
  f1: number
  /** Annotation instances with at least one residue above threshold. */
  foundInstances: number
  /** Annotation instances of the concept (on the proteins indexed). */
  instances: number
}

/** A generated description of a feature from its statistics (no LLM). */
export interface FeatureLabelCard {
  /** Concepts with F1 (residue or per-domain) at or above the floor, best first (at most 3). */
  concepts: { type: AnnotationType; note: string; f1: number; f1Domain: number | null }[]
  /** How the feature fires on its top proteins; null when it never fires. */
  pattern: 'residue' | 'motif' | 'domain' | 'periodic' | 'protein' | null
  /** Share of the top proteins that show `pattern`. */
  patternShare: number
  /** Amino acids over-represented at firing residues (ratio to their share in the same proteins), at most 3. */
  enriched: { aa: string; ratio: number; share: number }[]
  /** 'N' or 'C' when most firing residues lie in the first or last 10 % of the protein, else null. */
  terminal: 'N' | 'C' | null
  /** Mean relative position (0 = N-terminus, 1 = C-terminus) of the firing residues. */
  meanPosition: number
  /** Whether the firing residues cluster in 3D, where the project has structures of top proteins (else absent). */
  structure?: StructureClustering
  /** The one-line text shown in the label column. */
  text: string
}

/**
 * 3D clustering of a feature's firing residues on the structures of its top proteins: the mean pairwise CA
 * distance of the firing residues against random residue sets of the same size on the same chains.
 */
export interface StructureClustering {
  /** Protein–chain pairs used (a top protein with ≥ 3 firing residues on a chain aligned to it). */
  structures: number
  /** Which chains, e.g. "2HHB:A". */
  chains: string[]
  /** Firing residues with CA coordinates, over all the structures. */
  residues: number
  /** Mean over the structures of the mean pairwise CA distance of the firing residues (Å). */
  meanDistance: number
  /** The same expected for random residue sets of the same sizes on the same chains (exact: all-pairs mean, Å). */
  expectedDistance: number
  /** Permutation p-value: share of random sets at least as compact (one-sided; see structure-clustering.ts). */
  p: number
  /** Random draws made (199, fewer when the sequential stop ended the test early). */
  permutations: number
  /** p ≤ 0.01. */
  clusters: boolean
}

export interface FeatureDetail {
  runId: number
  summary: FeatureSummary
  stats: FeatureStats
  quantiles: Quantile[]
  histogram: Histogram
  /** Top proteins by max activation, highest first (k set at indexing). */
  topProteins: FeatureProteinActivation[]
  quantileSamples: QuantileBucketSample[]
  /** Sorted by F1, highest first. */
  concepts: ConceptAssociation[]
  label: string
  notes: string
  /** How the concepts were scored (absent for statistics from before the choice existed). */
  conceptScoring?: ConceptScoring
  /** The generated label card (absent for statistics from before cards existed). */
  labelCard?: FeatureLabelCard
}

export const FEATURE_SORT_KEYS = [
  'id',
  'label',
  'freqResidue',
  'freqProtein',
  'max',
  'meanNonzero',
  'bestF1',
  'concept',
  'bestF1Domain'
] as const
export type FeatureSortKey = (typeof FEATURE_SORT_KEYS)[number]
export const SORT_DIRECTIONS = ['asc', 'desc'] as const
export type SortDirection = (typeof SORT_DIRECTIONS)[number]
/** Which features a list shows by whether they ever fire. */
export const FEATURE_STATUSES = ['all', 'alive', 'dead'] as const
export type FeatureStatus = (typeof FEATURE_STATUSES)[number]
/** A concept type filter: an annotation type, 'any' (has some concept) or 'none' (no concept). */
export const CONCEPT_TYPE_FILTERS = [...ANNOTATION_TYPES, 'any', 'none'] as const

/** The filters and sort of the feature table (listFeatures, exportFeatures). */
export const featureFiltersShape = {
  runId: opt(runId),
  /** Default { key: 'id', dir: 'asc' }. */
  sort: opt(obj({ key: oneOf(FEATURE_SORT_KEYS), dir: oneOf(SORT_DIRECTIONS) })),
  /** Minimum fraction of firing residues. */
  minFreqResidue: opt(fraction),
  maxFreqResidue: opt(fraction),
  minFreqProtein: opt(fraction),
  /** Minimum max activation. */
  minMax: opt(num(-1e30, 1e30)),
  /** 'alive' (default 'all'). */
  status: opt(oneOf(FEATURE_STATUSES)),
  /** Only features whose best concept is this type; 'any' = has some concept, 'none' = no concept. */
  conceptType: opt(oneOf(CONCEPT_TYPE_FILTERS)),
  /** Minimum F1 of the best concept. */
  minF1: opt(fraction),
  /** Minimum InterPLM F1 (per-domain recall) of the best concept by that metric. */
  minF1Domain: opt(fraction),
  /** Case-insensitive text search over id, label, notes and best-concept names. */
  text: opt(text(200)),
  /** Only these feature ids (e.g. a brushed selection in the overview plot). */
  ids: opt(arrayOf(featureId, 100_000))
}
export const featureListQueryShape = {
  ...featureFiltersShape,
  offset: opt(int(0, MAX_FEATURE_ID)),
  /** Default 100, at most 20,000. */
  limit: opt(int(1, 20_000))
}
export type FeatureListQuery = InferShape<typeof featureListQueryShape>

export interface FeatureListResult {
  runId: number
  /** Features matching the filters (before paging). */
  total: number
  offset: number
  items: FeatureSummary[]
}

/** All features as points for the overview plot (frequency against max), one compact row per feature. */
export interface FeatureOverview {
  runId: number
  ids: number[]
  freqResidue: number[]
  max: number[]
  bestF1: number[]
}

export const featureLabelUpdateShape = {
  runId: opt(runId),
  feature: featureId,
  /** Omitted = unchanged. */
  label: opt(text(200)),
  notes: opt(longText(20_000))
}
export type FeatureLabelUpdate = InferShape<typeof featureLabelUpdateShape>

export const FEATURE_EXPORT_FORMATS = ['csv', 'json'] as const
export type FeatureExportFormat = (typeof FEATURE_EXPORT_FORMATS)[number]

export const featureExportQueryShape = { ...featureFiltersShape, format: oneOf(FEATURE_EXPORT_FORMATS) }
export type FeatureExportQuery = InferShape<typeof featureExportQueryShape>

// ---------------------------------------------------------------------------------------------------------
// One protein's features

/** Residues `start`..`end`, 1-based and inclusive. */
export type ResidueRange = Infer<typeof residueRange>

/** How a protein's features are ordered: by their max or mean activation over the range. */
export const FEATURE_HIT_SORT_KEYS = ['max', 'mean'] as const
export type FeatureHitSortKey = (typeof FEATURE_HIT_SORT_KEYS)[number]

/** A stored protein: the store's protein id or its accession. */
export const proteinRef = either(int(0, 2 ** 31), id, 'a protein id (number) or accession')

const featureHitsShape = {
  runId: opt(runId),
  /** Default: the whole protein. */
  range: opt(residueRange),
  /** Default 'max'. */
  sortBy: opt(oneOf(FEATURE_HIT_SORT_KEYS)),
  offset: opt(int(0, MAX_FEATURE_ID)),
  /** Default 100. */
  limit: opt(int(1, 20_000)),
  /** Include the full per-residue `activations` for the first N hits (for the heat map); default 0. */
  withTracks: opt(int(0, 200))
}
export const proteinFeaturesQueryShape = {
  ...featureHitsShape,
  /** The store's protein id or its accession. */
  protein: proteinRef
}
export type ProteinFeaturesQuery = InferShape<typeof proteinFeaturesQueryShape>

export interface ProteinFeatureHit {
  feature: number
  label: string
  bestConcept: BestConcept | null
  /** Max over the range. */
  max: number
  /** Mean over the range (zeros included). */
  mean: number
  /** Residue (1-based) of the max within the range. */
  argmax: number
  /** Residues in the range where it fires. */
  firingResidues: number
  /** The feature's global max (to normalise colours). */
  globalMax: number
  /** Per residue over the whole protein, when requested with `withTracks`. */
  activations?: number[]
}

export interface ProteinFeaturesResult {
  runId: number
  /** null for an unstored sequence (pasted or generated, computed on demand). */
  protein: ProteinSummary | null
  sequence: string
  annotations: ResidueAnnotation[]
  range: ResidueRange
  sortBy: FeatureHitSortKey
  /** Number of features firing in the range. */
  total: number
  offset: number
  items: ProteinFeatureHit[]
}

/** Features of a sequence typed by the user, computed live (not stored). */
export const liveFeaturesQueryShape = { ...featureHitsShape, sequence: sequenceText }
export type LiveFeaturesQuery = InferShape<typeof liveFeaturesQueryShape>

// ---------------------------------------------------------------------------------------------------------
// Indexing jobs

export const BAD_RECORD_POLICIES = ['skip', 'stop'] as const
export type BadRecordPolicy = (typeof BAD_RECORD_POLICIES)[number]

export interface BadRecordReport {
  file: string
  line: number
  /** Record id when known ('' otherwise). */
  id: string
  message: string
}

export interface IndexJobRequest {
  modelDir: string
  saeDir: string
  input: string
  db: string
  layer?: number
  topK?: number
  onBadRecord?: BadRecordPolicy
}

export type IndexPhase = 'reading' | 'latents' | 'statistics' | 'done' | 'cancelled' | 'failed'

export interface IndexProgress {
  phase: IndexPhase
  runId: number
  /** Proteins with latents stored (including earlier, resumed sessions). */
  proteinsDone: number
  /** Proteins known so far in the input (grows while reading; final when reading ends). */
  proteinsTotal: number
  residuesDone: number
  residuesTotal: number
  /** Throughput of this session. */
  residuesPerSecond: number
  /** null while unknown. */
  etaSeconds: number | null
  /** Proteins already stored by an earlier session (not recomputed). */
  skippedExisting: number
  badRecords: number
  /** 0..1 within the statistics phase. */
  statsFraction?: number
}

export interface IndexResult {
  runId: number
  proteinsAdded: number
  proteinsIndexed: number
  residuesIndexed: number
  skippedExisting: number
  badRecords: BadRecordReport[]
  seconds: number
  residuesPerSecond: number
  cancelled: boolean
  /** The run's warnings after this job (see `RunInfo.warnings`). */
  warnings?: string[]
}

// ---------------------------------------------------------------------------------------------------------
// Concept reports for the user's own sequences

/** A feature used to predict a concept: its best concept (F1 ≥ the floor) and the activation it must exceed. */
export interface ConceptPredictor {
  feature: number
  type: AnnotationType
  note: string
  f1: number
  /** Threshold as a fraction of the feature's max (the concept's best threshold). */
  threshold: number
  /** threshold × the feature's max: a residue is predicted when the activation is above it. */
  cut: number
}

/** One predicted annotation track of a sequence. */
export interface PredictedConceptTrack {
  type: AnnotationType
  note: string
  /** Predicted residues as 1-based inclusive segments. */
  segments: ResidueRange[]
  /** Per residue (0-based), how many predicting features fire above their threshold (0 = not predicted). */
  support: number[]
  /** The features that predict it here, with the residues each predicts. */
  features: { feature: number; f1: number; residues: number }[]
}

/** Predicted against known for one concept of one sequence (UniProt input with annotations). */
export interface ConceptAgreement {
  type: AnnotationType
  note: string
  /** Residues both predicted and annotated. */
  both: number
  predicted: number
  known: number
  precision: number
  recall: number
  f1: number
}

export interface SequenceConceptReport {
  id: string
  description: string
  sequence: string
  predicted: PredictedConceptTrack[]
  /** The input's own annotations (UniProt flat file); [] for FASTA. */
  known: ResidueAnnotation[]
  /** Per concept predicted or annotated; absent when the input carries no annotations. */
  agreement?: ConceptAgreement[]
}

/** A feature that fires in most members of a family, placed on the reference (the first sequence). */
export interface FamilyFeature {
  feature: number
  label: string
  bestConcept: BestConcept | null
  /** Members in which it fires. */
  members: number
  fraction: number
  /** Per reference residue (0-based): members in which it fires on the residue aligned there. */
  columns: number[]
  /** Reference residues (1-based segments) where it fires in at least half the members. */
  segments: ResidueRange[]
}

export interface ConceptReport {
  runId: number
  /** The concept F1 floor used. */
  floor: number
  /** Features with a concept at or above the floor. */
  predictors: number
  sequences: SequenceConceptReport[]
  /** For two or more sequences: features firing in at least `minFraction` of them, aligned to the first. */
  family?: { reference: string; minFraction: number; features: FamilyFeature[] }
}

/** The concept report of pasted sequences (FASTA, or UniProt flat-file text with annotations). */
export const conceptReportQueryShape = {
  runId: opt(runId),
  text: longText(MAX_REPORT_TEXT, 1),
  /** Default DEFAULT_CONCEPT_F1_FLOOR. */
  floor: opt(fraction),
  /** Family features must fire in at least this fraction of the sequences (default 0.5 = "most"). */
  minFraction: opt(fraction)
}
export type ConceptReportQuery = InferShape<typeof conceptReportQueryShape>
