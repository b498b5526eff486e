/**
 * The feature views' read queries over a store: the feature table (filters, sorts, pages, export), the
 * overview scatter plot, one feature's detail (statistics, histogram, examples, concepts, label card) and the
 * concept predictors of concept reports. Every query reads the precomputed, indexed statistics tables.
 */
import type {
  AnnotationType,
  BestConcept,
  ConceptAssociation,
  ConceptPredictor,
  FeatureDetail,
  FeatureExportQuery,
  FeatureLabelCard,
  FeatureListQuery,
  FeatureListResult,
  FeatureOverview,
  FeatureProteinActivation,
  FeatureSummary,
  QuantileBucketSample,
  ResidueAnnotation
} from '../../../shared/store-types'
import {
  conceptScores,
  exampleProteinIds,
  readExamples,
  type ConceptCounts,
  type Example,
  type StatisticsSettings
} from './feature-statistics'
import {
  FeatureOutOfRangeError,
  likePattern,
  NotInStoreError,
  type ProteinRow,
  type RunRow,
  type StoreReader
} from './store-reader'

/** The largest page of the feature table (the export reads it page by page). */
export const MAX_FEATURE_PAGE = 20_000

const SUMMARY_COLUMNS = `s.feature, s.firing_residues, s.firing_proteins, s.freq_residue, s.freq_protein, s.max, s.mean_nz, s.std_nz, s.dead,
  s.best_type, s.best_f1, s.best_precision, s.best_recall, s.best_threshold, s.hist_small, l.label, l.notes,
  s.best_note, s.best_domain_type, s.best_domain_note, s.best_domain_f1, s.best_domain_precision, s.best_domain_recall, s.best_domain_threshold, s.generated_label`

interface StatsRow {
  feature: number
  firing_residues: number
  firing_proteins: number
  freq_residue: number
  freq_protein: number
  max: number
  mean_nz: number
  std_nz: number
  dead: number
  best_type: string | null
  best_f1: number
  best_precision: number
  best_recall: number
  best_threshold: number
  hist_small: string
  label: string | null
  notes: string | null
  best_note: string
  best_domain_type: string | null
  best_domain_note: string
  best_domain_f1: number
  best_domain_precision: number
  best_domain_recall: number
  best_domain_threshold: number
  generated_label: string
}

/** The numeric filters of the feature table: the query's field and its condition on `feature_stats`. */
const NUMBER_FILTERS: readonly [
  'minFreqResidue' | 'maxFreqResidue' | 'minFreqProtein' | 'minMax' | 'minF1' | 'minF1Domain',
  string
][] = [
  ['minFreqResidue', 's.freq_residue >= @minFreqResidue'],
  ['maxFreqResidue', 's.freq_residue <= @maxFreqResidue'],
  ['minFreqProtein', 's.freq_protein >= @minFreqProtein'],
  ['minMax', 's.max >= @minMax'],
  ['minF1', 's.best_f1 >= @minF1'],
  ['minF1Domain', 's.best_domain_f1 >= @minF1Domain']
]

/** The `feature_stats` column of each numeric sort of the feature table. */
const SORT_COLUMNS: Partial<Record<NonNullable<FeatureListQuery['sort']>['key'], string>> = {
  freqResidue: 's.freq_residue',
  freqProtein: 's.freq_protein',
  max: 's.max',
  meanNonzero: 's.mean_nz',
  bestF1: 's.best_f1',
  bestF1Domain: 's.best_domain_f1'
}

export class FeatureQueries {
  private readonly overviews = new Map<number, { stamp: string; overview: FeatureOverview }>()

  constructor(private readonly store: StoreReader) {}

  list(q: FeatureListQuery = {}): FeatureListResult {
    const run = this.store.resolveRun(q.runId)
    this.requireStats(run)
    const offset = Math.max(0, Math.floor(q.offset ?? 0))
    const limit = Math.max(0, Math.min(MAX_FEATURE_PAGE, Math.floor(q.limit ?? 100)))
    const { where, params } = this.featureWhere(q)
    const join = 'LEFT JOIN feature_labels l ON l.sae_hash = @sae AND l.feature = s.feature'
    // labels are joined only where the query needs them (text search, sort by label) and for the page itself
    const needLabels = q.sort?.key === 'label'
    const usesSae = needLabels || Boolean(q.text?.trim())
    const all = { ...params, run: run.id, sae: run.sae_hash }
    const order = this.orderBy(q)
    const total = (
      this.store
        .stmt(`SELECT COUNT(*) AS n FROM feature_stats s ${needLabels ? join : ''} WHERE ${where}`)
        .get(usesSae ? all : { ...params, run: run.id }) as { n: number }
    ).n
    const sql = needLabels
      ? `SELECT ${SUMMARY_COLUMNS} FROM feature_stats s ${join} WHERE ${where} ORDER BY ${order} LIMIT @limit OFFSET @offset`
      : `SELECT ${SUMMARY_COLUMNS} FROM (SELECT s.feature AS f FROM feature_stats s WHERE ${where} ORDER BY ${order} LIMIT @limit OFFSET @offset) page
         CROSS JOIN feature_stats s ON s.run_id = @run AND s.feature = page.f ${join} ORDER BY ${order}`
    const rows = this.store.stmt(sql).all({ ...all, limit, offset }) as StatsRow[]
    return { runId: run.id, total, offset, items: rows.map(toSummary) }
  }

  /** Every feature's frequency, max and best F1 in compact columns (for the overview scatter plot). */
  overview(runId?: number): FeatureOverview {
    const run = this.store.resolveRun(runId)
    this.requireStats(run)
    const stamp =
      (this.store.stmt('SELECT computed_at FROM run_stats WHERE run_id = ?').pluck().get(run.id) as string) ?? ''
    const cached = this.overviews.get(run.id)
    if (cached && cached.stamp === stamp) return cached.overview
    const rows = this.store
      .stmt('SELECT feature, freq_residue, max, best_f1 FROM feature_stats WHERE run_id = ? ORDER BY feature')
      .raw()
      .all(run.id) as number[][]
    const out: FeatureOverview = { runId: run.id, ids: [], freqResidue: [], max: [], bestF1: [] }
    for (const r of rows) {
      out.ids.push(r[0])
      out.freqResidue.push(r[1])
      out.max.push(r[2])
      out.bestF1.push(r[3])
    }
    this.overviews.set(run.id, { stamp, overview: out })
    return out
  }

  /** Everything the feature detail view shows. `topLimit` / `samplesPerBucket` cap the examples returned. */
  detail(feature: number, opts: { runId?: number; topLimit?: number; samplesPerBucket?: number } = {}): FeatureDetail {
    const run = this.store.resolveRun(opts.runId)
    this.requireStats(run)
    const row = this.store
      .stmt(
        `SELECT ${SUMMARY_COLUMNS} FROM feature_stats s LEFT JOIN feature_labels l ON l.sae_hash = ? AND l.feature = s.feature
       WHERE s.run_id = ? AND s.feature = ?`
      )
      .get(run.sae_hash, run.id, feature) as StatsRow | undefined
    if (!row)
      throw new FeatureOutOfRangeError(`feature ${feature} is not in run ${run.id} (features are 0..${run.d_sae - 1})`)
    const rs = this.store.stmt('SELECT proteins, residues, settings FROM run_stats WHERE run_id = ?').get(run.id) as {
      proteins: number
      residues: number
      settings: string
    }
    const st = JSON.parse(rs.settings) as StatisticsSettings
    const detail = this.store
      .stmt('SELECT histogram, quantiles, examples, label_card FROM feature_details WHERE run_id = ? AND feature = ?')
      .get(run.id, feature) as
      { histogram: string; quantiles: string; examples: Buffer; label_card: string | null } | undefined
    if (!detail)
      throw new NotInStoreError(`feature ${feature} has no details in run ${run.id}; recompute the statistics`)
    const ids = [...new Set(exampleProteinIds(detail.examples))]
    const proteins = new Map<number, ProteinRow>()
    if (ids.length > 0) {
      for (const p of this.store
        .stmt('SELECT p.* FROM json_each(?) j JOIN proteins p ON p.id = j.value')
        .all(JSON.stringify(ids)) as ProteinRow[])
        proteins.set(p.id, p)
    }
    const annotations = new Map<number, ResidueAnnotation[]>()
    const annotationsOf = (p: ProteinRow): ResidueAnnotation[] => {
      let a = annotations.get(p.id)
      if (!a) annotations.set(p.id, (a = JSON.parse(p.annotations) as ResidueAnnotation[]))
      return a
    }
    const examples = readExamples(detail.examples, id => proteins.get(id)?.length ?? 0).filter(e =>
      proteins.has(e.proteinId)
    )
    const topLimit = opts.topLimit ?? Infinity
    const perBucket = opts.samplesPerBucket ?? Infinity
    const toActivation = (e: Example): FeatureProteinActivation => {
      const p = proteins.get(e.proteinId)!
      return {
        protein: { id: p.id, accession: p.accession, name: p.name, organism: p.organism, length: p.length },
        sequence: p.sequence,
        max: e.max,
        mean: e.mean,
        argmax: e.argmax + 1,
        firingResidues: e.firing,
        activations: e.activations,
        annotations: annotationsOf(p)
      }
    }
    const topProteins = examples.filter(e => e.kind === 0 && e.rank < topLimit).map(toActivation)
    const buckets: QuantileBucketSample[] = []
    for (let b = 0; b < st.buckets; b++) {
      buckets.push({
        bucket: b,
        lower: (row.max * b) / st.buckets,
        upper: (row.max * (b + 1)) / st.buckets,
        proteins: []
      })
    }
    for (const e of examples)
      if (e.kind === 1 && e.rank < perBucket && buckets[e.bucket]) buckets[e.bucket].proteins.push(toActivation(e))
    const concepts = (
      this.store
        .stmt('SELECT * FROM feature_concepts WHERE run_id = ? AND feature = ? ORDER BY f1 DESC, type, note')
        .all(run.id, feature) as {
        type: string
        note: string
        per_residue: number
        domain_threshold: number | null
        domain_precision: number | null
        domain_recall: number | null
        domain_f1: number | null
        found_instances: number | null
        instances: number | null
        threshold: number
        precision: number
        recall: number
        f1: number
        tp: number
        predicted: number
        positives: number
        by_threshold: string
      }[]
    ).map((c): ConceptAssociation => ({
      type: c.type as AnnotationType,
      threshold: c.threshold,
      precision: c.precision,
      recall: c.recall,
      f1: c.f1,
      truePositives: c.tp,
      predicted: c.predicted,
      positives: c.positives,
      byThreshold: byThresholdOf(c.by_threshold, st.thresholds, c.positives, c.instances ?? 0, c.per_residue === 1),
      note: c.note,
      perResidue: c.per_residue === 1,
      ...(c.domain_f1 === null
        ? {}
        : {
            domain: {
              threshold: c.domain_threshold!,
              precision: c.domain_precision!,
              recall: c.domain_recall!,
              f1: c.domain_f1,
              foundInstances: c.found_instances!,
              instances: c.instances!
            }
          })
    }))
    const summary = toSummary(row)
    return {
      runId: run.id,
      summary,
      stats: {
        totalResidues: rs.residues,
        totalProteins: rs.proteins,
        firingResidues: row.firing_residues,
        firingProteins: row.firing_proteins,
        freqResidue: row.freq_residue,
        freqProtein: row.freq_protein,
        max: row.max,
        meanNonzero: row.mean_nz,
        stdNonzero: row.std_nz
      },
      quantiles: JSON.parse(detail.quantiles) as FeatureDetail['quantiles'],
      histogram: {
        edges: Array.from({ length: st.histogramBins + 1 }, (_, i) => (row.max * i) / st.histogramBins),
        counts: JSON.parse(detail.histogram) as number[]
      },
      topProteins,
      quantileSamples: buckets,
      concepts,
      label: row.label ?? '',
      notes: row.notes ?? '',
      ...(st.concepts ? { conceptScoring: st.concepts } : {}),
      ...(detail.label_card ? { labelCard: JSON.parse(detail.label_card) as FeatureLabelCard } : {})
    }
  }

  /**
   * Every (feature, concept) whose residue F1 is at or above `floor`, with the activation the feature must
   * exceed to predict the concept on a residue (its best threshold × its max): the predictors of concept reports.
   */
  conceptPredictors(runId: number | undefined, floor: number): { runId: number; predictors: ConceptPredictor[] } {
    const run = this.store.resolveRun(runId)
    this.requireStats(run)
    const rows = this.store
      .stmt(
        `SELECT c.feature, c.type, c.note, c.f1, c.threshold, s.max FROM feature_concepts c
       JOIN feature_stats s ON s.run_id = c.run_id AND s.feature = c.feature
       WHERE c.run_id = ? AND c.f1 >= ? ORDER BY c.feature, c.f1 DESC, c.type, c.note`
      )
      .all(run.id, floor) as {
      feature: number
      type: string
      note: string
      f1: number
      threshold: number
      max: number
    }[]
    return {
      runId: run.id,
      predictors: rows.map(r => ({
        feature: r.feature,
        type: r.type as AnnotationType,
        note: r.note,
        f1: r.f1,
        threshold: r.threshold,
        cut: r.threshold * r.max
      }))
    }
  }

  /** The feature table (all matching features, the list's sort order) as CSV or JSON text. */
  export(q: FeatureExportQuery): string {
    const { format, ...query } = q
    const res = this.list({ ...query, offset: 0, limit: MAX_FEATURE_PAGE })
    let items = res.items
    for (let offset = items.length; offset < res.total; offset += MAX_FEATURE_PAGE) {
      items = items.concat(this.list({ ...query, offset, limit: MAX_FEATURE_PAGE }).items)
    }
    const rows = items.map(f => ({
      feature: f.id,
      label: f.label,
      best_concept: f.bestConcept?.type ?? '',
      best_f1: f.bestConcept?.f1 ?? 0,
      best_precision: f.bestConcept?.precision ?? 0,
      best_recall: f.bestConcept?.recall ?? 0,
      best_threshold: f.bestConcept?.threshold ?? 0,
      freq_residue: f.freqResidue,
      freq_protein: f.freqProtein,
      max: f.max,
      mean_nonzero: f.meanNonzero,
      dead: f.dead,
      best_concept_note: f.bestConcept?.note ?? '',
      best_domain_concept: f.bestConceptDomain?.type ?? '',
      best_domain_concept_note: f.bestConceptDomain?.note ?? '',
      best_domain_f1: f.bestConceptDomain?.f1 ?? 0,
      best_domain_recall: f.bestConceptDomain?.recall ?? 0,
      best_domain_threshold: f.bestConceptDomain?.threshold ?? 0,
      generated_label: f.generatedLabel ?? ''
    }))
    if (format === 'json') return `${JSON.stringify({ runId: res.runId, features: rows }, null, 1)}\n`
    const header = Object.keys(rows[0] ?? { feature: 0 })
    const cell = (v: unknown): string => {
      const s = typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v)
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
    }
    const lines = [header.join(',')]
    for (const r of rows) lines.push(header.map(h => cell((r as Record<string, unknown>)[h])).join(','))
    return `${lines.join('\n')}\n`
  }

  private featureWhere(q: Omit<FeatureListQuery, 'offset' | 'limit'>): {
    where: string
    params: Record<string, unknown>
  } {
    const parts = ['s.run_id = @run']
    const params: Record<string, unknown> = {}
    for (const [key, condition] of NUMBER_FILTERS) {
      if (q[key] === undefined) continue
      parts.push(condition)
      params[key] = q[key]
    }
    if (q.status === 'alive') parts.push('s.dead = 0')
    if (q.status === 'dead') parts.push('s.dead = 1')
    if (q.conceptType === 'any') parts.push('s.best_type IS NOT NULL')
    else if (q.conceptType === 'none') parts.push('s.best_type IS NULL')
    else if (q.conceptType) {
      parts.push('s.best_type = @conceptType')
      params.conceptType = q.conceptType
    }
    if (q.ids) {
      parts.push('s.feature IN (SELECT value FROM json_each(@ids))')
      params.ids = JSON.stringify(q.ids.filter(i => Number.isInteger(i)))
    }
    const text = q.text?.trim()
    if (text) {
      const t = text.replace(/^#/, '')
      parts.push(
        // generated labels carry figures ("F1 0.12"): they are searched for words, not for a bare feature number
        `(s.feature = @textId OR s.concept_text LIKE @like ESCAPE '\\' ${/\p{L}/u.test(t) ? `OR s.generated_label LIKE @like ESCAPE '\\' ` : ''}OR s.feature IN ` +
          `(SELECT feature FROM feature_labels WHERE sae_hash = @sae AND (label LIKE @like ESCAPE '\\' OR notes LIKE @like ESCAPE '\\')))`
      )
      params.textId = /^\d+$/.test(t) ? Number(t) : -1
      params.like = likePattern(text)
    }
    return { where: parts.join(' AND '), params }
  }

  /** ORDER BY of the feature list; ties go by feature id in the same direction, so an index serves it. */
  private orderBy(q: FeatureListQuery): string {
    const dir = q.sort?.dir === 'desc' ? 'DESC' : 'ASC'
    const tie = `s.feature ${dir}`
    const key = q.sort?.key ?? 'id'
    if (key === 'label') return `(COALESCE(l.label, '') = '') ASC, l.label COLLATE NOCASE ${dir}, s.feature ASC`
    if (key === 'concept') return `(s.best_type IS NULL) ASC, s.best_type ${dir}, s.best_f1 DESC, s.feature ASC`
    const column = Object.hasOwn(SORT_COLUMNS, key) ? SORT_COLUMNS[key] : undefined
    return column ? `${column} ${dir}, ${tie}` : tie
  }

  private requireStats(run: RunRow): void {
    const s = this.store.stmt('SELECT 1 FROM run_stats WHERE run_id = ?').get(run.id)
    if (!s)
      throw new NotInStoreError(
        `run ${run.id} has no feature statistics yet (the index job computes them when it finishes; run it again to complete them)`
      )
  }
}

/**
 * A concept's figures per threshold from its stored counts (schema 6: {tp, predicted, found}); statistics
 * from before schema 6 stored the figures themselves (an array), returned as they are.
 */
function byThresholdOf(
  json: string,
  thresholds: number[],
  positives: number,
  instances: number,
  perResidue: boolean
): ConceptAssociation['byThreshold'] {
  const v = JSON.parse(json) as ConceptCounts | ConceptAssociation['byThreshold']
  if (Array.isArray(v)) return v
  return conceptScores(thresholds, v, positives, instances, perResidue).map(
    ({ threshold, precision, recall, f1, recallDomain, f1Domain }) => ({
      threshold,
      precision,
      recall,
      f1,
      recallDomain,
      f1Domain
    })
  )
}

function toSummary(r: StatsRow): FeatureSummary {
  return {
    id: r.feature,
    label: r.label ?? '',
    bestConcept: bestConceptOf(r, 'best_'),
    bestConceptDomain: bestConceptOf(r, 'best_domain_'),
    generatedLabel: r.generated_label ?? '',
    freqResidue: r.freq_residue,
    freqProtein: r.freq_protein,
    max: r.max,
    meanNonzero: r.mean_nz,
    dead: r.dead === 1,
    histogram: JSON.parse(r.hist_small) as number[],
    hasNotes: (r.notes ?? '') !== ''
  }
}

/** The columns of a best concept in `feature_stats`, under the prefix `best_` (residue F1) or `best_domain_`. */
type BestConceptColumns<P extends string> = { [K in 'type' | 'note' as `${P}${K}`]: string | null } & {
  [K in 'f1' | 'precision' | 'recall' | 'threshold' as `${P}${K}`]: number
}

/** A feature's best concept from its stored columns (`best_*` or `best_domain_*`); null when it has none. */
export function bestConceptOf<P extends 'best_' | 'best_domain_'>(
  r: BestConceptColumns<P>,
  prefix: P
): BestConcept | null {
  const c = r as Record<string, string | number | null>
  const type = c[`${prefix}type`] as AnnotationType | null
  if (!type) return null
  const note = c[`${prefix}note`] as string | null
  return {
    type,
    f1: c[`${prefix}f1`] as number,
    precision: c[`${prefix}precision`] as number,
    recall: c[`${prefix}recall`] as number,
    threshold: c[`${prefix}threshold`] as number,
    ...(note ? { note } : {})
  }
}
