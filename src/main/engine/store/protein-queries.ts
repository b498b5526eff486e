/**
 * The protein views' read queries over a store: the protein list (text search, pages), one protein with its
 * annotations, one feature's track on a protein, and the features firing on a protein (stored, or computed
 * live for a typed sequence) over a residue range with the run's labels and best concepts.
 */
import type {
  BestConcept,
  ProteinDetail,
  ProteinFeatureHit,
  ProteinFeaturesQuery,
  ProteinFeaturesResult,
  ProteinListQuery,
  ProteinListResult,
  ProteinSummary,
  ResidueAnnotation
} from '../../../shared/store-types'
import { bestConceptOf } from './feature-queries'
import { trackOf, type FeatureMajorLatents } from './latent-codec'
import { clampRange, featuresInRange, type RangeHit } from './protein-features'
import { likePattern, NotInStoreError, type ProteinRow, type RunRow, type StoreReader } from './store-reader'

export class ProteinQueries {
  constructor(private readonly store: StoreReader) {}

  get(ref: number | string): ProteinDetail | undefined {
    const r = this.store.proteinRow(ref)
    return r ? toProteinDetail(r) : undefined
  }

  list(q: ProteinListQuery = {}): ProteinListResult {
    const offset = Math.max(0, Math.floor(q.offset ?? 0))
    const limit = Math.max(0, Math.min(1000, Math.floor(q.limit ?? 100)))
    const text = q.text?.trim()
    const where = text
      ? `WHERE accession LIKE @like ESCAPE '\\' OR name LIKE @like ESCAPE '\\' OR organism LIKE @like ESCAPE '\\' OR description LIKE @like ESCAPE '\\'`
      : ''
    const params = text ? { like: likePattern(text) } : {}
    const total = (this.store.stmt(`SELECT COUNT(*) AS n FROM proteins ${where}`).get(params) as { n: number }).n
    const rows = this.store
      .stmt(
        `SELECT id, accession, name, organism, length FROM proteins ${where} ORDER BY id LIMIT @limit OFFSET @offset`
      )
      .all({
        ...params,
        limit,
        offset
      }) as ProteinSummary[]
    return { total, offset, items: rows }
  }

  /** One feature's per-residue track on one protein, redrawn from the stored latents. */
  featureTrack(runId: number, protein: number | string, feature: number): number[] {
    const p = this.store.proteinRow(protein)
    if (!p) throw new NotInStoreError(`no protein ${protein} in the store`)
    const m = this.store.latents(runId, p.id)
    if (!m) throw new NotInStoreError(`protein ${p.accession} has no latents in run ${runId}`)
    return Array.from(trackOf(m, feature))
  }

  /** All features firing on a stored protein over a residue range, sorted by max or mean. */
  features(q: ProteinFeaturesQuery): ProteinFeaturesResult {
    const run = this.store.resolveRun(q.runId)
    const p = this.store.proteinRow(q.protein)
    if (!p) throw new NotInStoreError(`no protein ${JSON.stringify(q.protein)} in the store`)
    const m = this.store.latents(run.id, p.id)
    if (!m) throw new NotInStoreError(`protein ${p.accession} has no latents in run ${run.id}; index it first`)
    const detail = toProteinDetail(p)
    const { sequence, annotations, ...summary } = detail
    return this.rangeResult(run, m, summary, sequence, annotations, q)
  }

  /** The same answer for latents computed on demand for an unstored sequence (pasted by the user; nothing is stored). */
  unstoredSequenceFeatures(
    runId: number | undefined,
    sequence: string,
    m: FeatureMajorLatents,
    q: Omit<ProteinFeaturesQuery, 'protein' | 'runId'>
  ): ProteinFeaturesResult {
    const run = this.store.resolveRun(runId)
    return this.rangeResult(run, m, null, sequence, [], q)
  }

  private rangeResult(
    run: RunRow,
    m: FeatureMajorLatents,
    protein: ProteinSummary | null,
    sequence: string,
    annotations: ResidueAnnotation[],
    q: Omit<ProteinFeaturesQuery, 'protein' | 'runId'>
  ): ProteinFeaturesResult {
    const range = clampRange(m.rows, q.range)
    const sortBy = q.sortBy ?? 'max'
    const offset = Math.max(0, Math.floor(q.offset ?? 0))
    const limit = Math.max(0, Math.floor(q.limit ?? 100))
    const { total, hits: page } = featuresInRange(m, range, sortBy, offset, limit)
    const info = this.featureInfo(run, page)
    const withTracks = Math.max(0, Math.floor(q.withTracks ?? 0))
    const items: ProteinFeatureHit[] = page.map((h, i) => {
      const f = info.get(h.feature)
      const item: ProteinFeatureHit = {
        feature: h.feature,
        label: f?.label ?? '',
        bestConcept: f?.best ?? null,
        max: h.max,
        mean: h.mean,
        argmax: h.argmax,
        firingResidues: h.firing,
        globalMax: f?.max ?? h.max
      }
      if (i < withTracks) item.activations = Array.from(trackOf(m, h.feature))
      return item
    })
    return { runId: run.id, protein, sequence, annotations, range, sortBy, total, offset, items }
  }

  private featureInfo(
    run: RunRow,
    hits: RangeHit[]
  ): Map<number, { label: string; best: BestConcept | null; max: number }> {
    const out = new Map<number, { label: string; best: BestConcept | null; max: number }>()
    if (hits.length === 0) return out
    const rows = this.store
      .stmt(
        `SELECT j.value AS feature, s.max, s.best_type, s.best_note, s.best_f1, s.best_precision, s.best_recall, s.best_threshold, l.label
       FROM json_each(?) j
       LEFT JOIN feature_stats s ON s.run_id = ? AND s.feature = j.value
       LEFT JOIN feature_labels l ON l.sae_hash = ? AND l.feature = j.value`
      )
      .all(JSON.stringify(hits.map(h => h.feature)), run.id, run.sae_hash) as {
      feature: number
      max: number | null
      best_type: string | null
      best_note: string | null
      best_f1: number
      best_precision: number
      best_recall: number
      best_threshold: number
      label: string | null
    }[]
    for (const r of rows) {
      out.set(r.feature, {
        label: r.label ?? '',
        max: r.max ?? 0,
        best: bestConceptOf(r, 'best_')
      })
    }
    return out
  }
}

function toProteinDetail(r: ProteinRow): ProteinDetail {
  return {
    id: r.id,
    accession: r.accession,
    name: r.name,
    organism: r.organism,
    length: r.length,
    sequence: r.sequence,
    description: r.description,
    annotations: JSON.parse(r.annotations) as ResidueAnnotation[]
  }
}
