/**
 * Concept reports for sequences the user brings (one, or a family): the project's features predict annotation
 * tracks, and for a family, the features that fire in most members are placed on the first sequence.
 *
 * - Predictors: every (feature, concept) of the run with residue F1 ≥ the floor (`LatentStore.conceptPredictors`);
 *   a residue is predicted to carry the concept when the feature's activation there is above the concept's best
 *   threshold × the feature's max. A concept's track is the union over its predictors; `support` counts them.
 * - Predicted against known (UniProt input): per concept predicted or annotated, residues both predicted and
 *   annotated, precision, recall and F1 (residues of an annotation as in concepts.ts; a split concept matches
 *   annotations with its note).
 * - Family (two or more sequences): a feature "fires" in a member when any residue is above 0; the features
 *   firing in at least `minFraction` of the members (most members first, at most `maxFamilyFeatures`), with, per
 *   residue of the reference (the first sequence), the members firing on the residue aligned there (global
 *   alignment, BLOSUM62, shared/alignment.ts).
 */
import { alignGlobal } from '../../../shared/alignment'
import { DEFAULT_CONCEPT_F1_FLOOR } from '../../../shared/concept-floor'
import {
  ANNOTATION_LABELS,
  CONCEPT_TYPES,
  type AnnotationType,
  type ConceptAgreement,
  type ConceptPredictor,
  type ConceptReport,
  type FamilyFeature,
  type PredictedConceptTrack,
  type ResidueAnnotation,
  type ResidueRange,
  type SequenceConceptReport
} from '../../../shared/store-types'
import { tokenize } from '../esm/alphabet'
import { readProteinInput } from '../io/protein-input'
import type { LatentSource } from '../sae/latent-source'
import { conceptNote, instanceResidues } from '../store/concepts'
import { binarySearch } from '../store/feature-statistics'
import { featureMajorOf, type FeatureMajorLatents } from '../store/latent-codec'
import type { LatentStore } from '../store/latent-store'

export interface ReportSequence {
  id: string
  description: string
  sequence: string
  annotations: ResidueAnnotation[]
}

export interface ConceptReportOptions {
  runId?: number
  floor?: number
  minFraction?: number
  maxFamilyFeatures?: number
  signal?: AbortSignal
}

const key = (type: string, note: string): string => `${type}\u0000${note}`

/** The predicted tracks of one sequence from its latents. */
export function predictConcepts(m: FeatureMajorLatents, predictors: ConceptPredictor[]): PredictedConceptTrack[] {
  const byFeature = new Map<number, ConceptPredictor[]>()
  for (const p of predictors) {
    const list = byFeature.get(p.feature)
    if (list) list.push(p)
    else byFeature.set(p.feature, [p])
  }
  type Track = {
    type: AnnotationType
    note: string
    support: number[]
    features: { feature: number; f1: number; residues: number }[]
  }
  const tracks = new Map<string, Track>()
  for (let i = 0; i < m.featureIds.length; i++) {
    const preds = byFeature.get(m.featureIds[i])
    if (!preds) continue
    for (const p of preds) {
      let n = 0
      let t: Track | undefined
      for (let e = m.start[i]; e < m.start[i + 1]; e++) {
        if (!(m.values[e] > p.cut)) continue
        if (!t) {
          const k = key(p.type, p.note)
          t = tracks.get(k) ?? { type: p.type, note: p.note, support: new Array<number>(m.rows).fill(0), features: [] }
          tracks.set(k, t)
        }
        t.support[m.residues[e]]++
        n++
      }
      if (t && n > 0) t.features.push({ feature: p.feature, f1: p.f1, residues: n })
    }
  }
  return [...tracks.values()]
    .map(t => ({
      ...t,
      segments: segmentsOf(t.support.map(v => v > 0)),
      features: t.features.sort((a, b) => b.f1 - a.f1 || a.feature - b.feature)
    }))
    .sort(
      (a, b) =>
        CONCEPT_TYPES.indexOf(a.type) - CONCEPT_TYPES.indexOf(b.type) ||
        (a.note < b.note ? -1 : a.note > b.note ? 1 : 0)
    )
}

/** 1-based inclusive segments of the true positions. */
export function segmentsOf(on: boolean[]): ResidueRange[] {
  const out: ResidueRange[] = []
  for (let r = 0; r < on.length; r++) {
    if (!on[r]) continue
    const start = r
    while (r + 1 < on.length && on[r + 1]) r++
    out.push({ start: start + 1, end: r + 1 })
  }
  return out
}

/** Predicted against known, per concept predicted or annotated (whole types of the known concept annotations). */
export function agreementOf(
  length: number,
  predicted: PredictedConceptTrack[],
  known: ResidueAnnotation[]
): ConceptAgreement[] {
  const concepts = new Map<string, { type: AnnotationType; note: string; predicted?: boolean[] }>()
  for (const t of predicted)
    concepts.set(key(t.type, t.note), { type: t.type, note: t.note, predicted: t.support.map(v => v > 0) })
  for (const a of known)
    if (CONCEPT_TYPES.includes(a.type) && !concepts.has(key(a.type, '')))
      concepts.set(key(a.type, ''), { type: a.type, note: '' })
  const out: ConceptAgreement[] = []
  for (const c of concepts.values()) {
    const annotated = new Array<boolean>(length).fill(false)
    for (const a of known) {
      if (a.type !== c.type || (c.note !== '' && conceptNote(a) !== c.note)) continue
      for (const r of instanceResidues(a, length)) annotated[r] = true
    }
    let both = 0
    let nPred = 0
    let nKnown = 0
    for (let r = 0; r < length; r++) {
      const p = c.predicted?.[r] ?? false
      if (p) nPred++
      if (annotated[r]) nKnown++
      if (p && annotated[r]) both++
    }
    const precision = nPred > 0 ? both / nPred : 0
    const recall = nKnown > 0 ? both / nKnown : 0
    out.push({
      type: c.type,
      note: c.note,
      both,
      predicted: nPred,
      known: nKnown,
      precision,
      recall,
      f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
    })
  }
  return out.sort(
    (a, b) =>
      CONCEPT_TYPES.indexOf(a.type) - CONCEPT_TYPES.indexOf(b.type) || (a.note < b.note ? -1 : a.note > b.note ? 1 : 0)
  )
}

/** The features firing in at least `minFraction` of the members, placed on the first sequence. */
export function familyFeatures(
  sequences: string[],
  latents: FeatureMajorLatents[],
  minFraction: number,
  limit: number
): Omit<FamilyFeature, 'label' | 'bestConcept'>[] {
  const n = sequences.length
  const ref = sequences[0]
  const toRef = sequences.map((s, i) =>
    i === 0 ? Int32Array.from({ length: s.length }, (_, r) => r) : alignGlobal(s, ref).queryToTarget
  )
  const members = new Map<number, number>()
  for (const m of latents)
    for (let i = 0; i < m.featureIds.length; i++)
      if (m.start[i + 1] > m.start[i]) members.set(m.featureIds[i], (members.get(m.featureIds[i]) ?? 0) + 1)
  const need = Math.max(1, Math.ceil(minFraction * n - 1e-9))
  const chosen = [...members.entries()]
    .filter(([, k]) => k >= need)
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, limit)
  return chosen.map(([feature, k]) => {
    const columns = new Array<number>(ref.length).fill(0)
    latents.forEach((m, s) => {
      const i = binarySearch(m.featureIds, feature)
      if (i < 0) return
      const seen = new Set<number>()
      for (let e = m.start[i]; e < m.start[i + 1]; e++) {
        const c = toRef[s][m.residues[e]]
        if (c >= 0 && !seen.has(c)) {
          seen.add(c)
          columns[c]++
        }
      }
    })
    return { feature, members: k, fraction: k / n, columns, segments: segmentsOf(columns.map(v => v >= n / 2)) }
  })
}

/** The sequences of a FASTA or UniProt file (plain or gzipped); a bad record is an error naming file and line. */
export async function readReportSequences(path: string): Promise<ReportSequence[]> {
  const out: ReportSequence[] = []
  for await (const item of readProteinInput(path)) {
    if (item.kind === 'bad')
      throw new Error(
        `${item.report.file}:${item.report.line}: bad record${item.report.id ? ` "${item.report.id}"` : ''}: ${item.report.message}`
      )
    const r = item.record
    out.push({ id: r.accession, description: r.description, sequence: r.sequence, annotations: r.annotations })
  }
  if (out.length === 0) throw new Error(`${path}: no sequences found (expected FASTA records or UniProt entries)`)
  return out
}

/** The concept report of the sequences, with the run's features (latents computed through `source`). */
export async function conceptReport(
  store: LatentStore,
  source: LatentSource,
  sequences: ReportSequence[],
  opts: ConceptReportOptions = {}
): Promise<ConceptReport> {
  if (sequences.length === 0) throw new Error('no sequences to annotate')
  const floor = opts.floor ?? DEFAULT_CONCEPT_F1_FLOOR
  const minFraction = opts.minFraction ?? 0.5
  const { runId, predictors } = store.features.conceptPredictors(opts.runId, floor)
  const run = store.run(runId)!
  if (run.dSae !== source.dSae || run.layer !== source.layer) {
    throw new Error(
      `the model/SAE given (${source.dSae} latents at layer ${source.layer}) is not the one of run ${runId} (${run.dSae} latents at layer ${run.layer})`
    )
  }
  const inputs = sequences.map((s, i) => ({ id: String(i), tokens: tokenize(s.sequence, s.id) }))
  const latents: FeatureMajorLatents[] = new Array(sequences.length)
  for await (const l of source.extract(inputs, { signal: opts.signal })) latents[Number(l.id)] = featureMajorOf(l)
  if (opts.signal?.aborted) throw new Error('cancelled')
  const reports: SequenceConceptReport[] = sequences.map((s, i) => {
    const predicted = predictConcepts(latents[i], predictors)
    const report: SequenceConceptReport = {
      id: s.id,
      description: s.description,
      sequence: s.sequence,
      predicted,
      known: s.annotations
    }
    if (s.annotations.length > 0) report.agreement = agreementOf(s.sequence.length, predicted, s.annotations)
    return report
  })
  const result: ConceptReport = {
    runId,
    floor,
    predictors: new Set(predictors.map(p => p.feature)).size,
    sequences: reports
  }
  if (sequences.length >= 2) {
    const fam = familyFeatures(
      sequences.map(s => s.sequence),
      latents,
      minFraction,
      opts.maxFamilyFeatures ?? 100
    )
    const info = new Map(
      fam.length
        ? store.features.list({ runId, ids: fam.map(f => f.feature), limit: fam.length }).items.map(f => [f.id, f])
        : []
    )
    result.family = {
      reference: sequences[0].id,
      minFraction,
      features: fam.map(f => ({
        ...f,
        label: info.get(f.feature)?.label || info.get(f.feature)?.generatedLabel || '',
        bestConcept: info.get(f.feature)?.bestConcept ?? null
      }))
    }
  }
  return result
}

const conceptName = (type: AnnotationType, note: string): string =>
  note ? `${ANNOTATION_LABELS[type]}: ${note}` : ANNOTATION_LABELS[type]

/**
 * The report as TSV: one row per predicted segment, per agreement and per family feature segment:
 * section, sequence, concept/feature, start, end, and figures (see the header of each section).
 */
export function reportTsv(r: ConceptReport): string {
  const cell = (v: string | number): string => String(v).replace(/[\t\r\n]+/g, ' ')
  const lines: string[] = [
    [
      'section',
      'sequence',
      'concept',
      'type',
      'note',
      'start',
      'end',
      'features',
      'precision',
      'recall',
      'f1',
      'detail'
    ].join('\t')
  ]
  const row = (...v: (string | number)[]): void => void lines.push(v.map(cell).join('\t'))
  for (const s of r.sequences) {
    for (const t of s.predicted) {
      const feats = t.features.map(f => f.feature).join(',')
      for (const g of t.segments)
        row('predicted', s.id, conceptName(t.type, t.note), t.type, t.note, g.start, g.end, feats, '', '', '', '')
    }
    for (const a of s.agreement ?? []) {
      row(
        'agreement',
        s.id,
        conceptName(a.type, a.note),
        a.type,
        a.note,
        '',
        '',
        '',
        a.precision.toFixed(4),
        a.recall.toFixed(4),
        a.f1.toFixed(4),
        `both ${a.both}, predicted ${a.predicted}, known ${a.known}`
      )
    }
  }
  for (const f of r.family?.features ?? []) {
    const concept = f.bestConcept ? conceptName(f.bestConcept.type, f.bestConcept.note ?? '') : ''
    const where = f.segments.length ? f.segments : [{ start: '', end: '' }]
    for (const g of where)
      row(
        'family',
        r.family!.reference,
        concept,
        f.bestConcept?.type ?? '',
        f.bestConcept?.note ?? '',
        g.start,
        g.end,
        f.feature,
        '',
        '',
        '',
        `fires in ${f.members} of ${r.sequences.length}${f.label ? `; ${f.label}` : ''}`
      )
  }
  return `${lines.join('\n')}\n`
}
