/**
 * Per-feature statistics over all stored latents of a run, in two streaming passes over the proteins (memory
 * is O(dSae × bins), whatever the number of proteins):
 *
 *  pass 1: firing residues / proteins, sum and sum of squares of nonzero values, max, and the top-k proteins
 *          by per-protein max (ties broken by the smaller protein id);
 *  pass 2: (needs the max) a fine histogram of the nonzero values over [0, max] (quantiles are read from it,
 *          accurate to max / FINE_BINS), InterPLM-style samples from buckets of per-protein max
 *          (bucket b holds proteins with max in (b/B·max, (b+1)/B·max]; the `samplesPerBucket` proteins with
 *          the smallest hash(feature, protein) are kept, so the choice does not depend on the order of
 *          indexing), and the concept association counts;
 *  pass 3: (only the proteins chosen as top-k or samples) their per-residue tracks, written per feature into
 *          one compact examples blob (see `writeExample` / `readExamples`).
 *
 * Concept association (concepts and instances: concepts.ts). For threshold t (fraction of the feature's max),
 * a residue is "predicted" when its value > t·max. Predicted residues are counted on the proteins that carry
 * at least one concept annotation, or on every protein (`concepts.falsePositives = 'all'`, InterPLM's way).
 *   precision = TP / predicted, recall = TP / residues carrying the concept, F1 = 2PR / (P + R);
 *   InterPLM's per-domain recall = instances with at least one predicted residue / instances (the residue
 *   recall for per-residue concepts), and its F1 = harmonic mean of precision and per-domain recall.
 * Per (feature, concept) the best threshold by F1 is kept, and separately the best by per-domain F1 (ties by
 * F1, as InterPLM sorts); per feature the best concept by each metric. All counts (tp, predicted, positives,
 * found instances, instances, per threshold) are plain integers that add up over disjoint sets of proteins.
 *
 * Pass 3 also feeds the label cards (label-card.ts) from the top-k proteins' tracks and sequences.
 */
import {
  CONCEPT_TYPES,
  SMALL_HISTOGRAM_BINS,
  type AnnotationType,
  type ConceptAssociation,
  type ConceptDomainScore,
  type ConceptScoring,
  type ConceptThresholdScore,
  type FeatureLabelCard,
  type FeatureStats,
  type Histogram,
  type Quantile,
  type ResidueAnnotation
} from '../../../shared/store-types'
import { ConceptCounter, DEFAULT_CONCEPT_SCORING, conceptLayout, type ConceptCatalogue } from './concepts'
import { ByteReader, ByteWriter, readTrack, writeTrack, type FeatureMajorLatents } from './latent-codec'
import { CARD_FIRING_FRACTION, LabelCardAccumulator } from './label-card'
import type { ProteinStructures } from './protein-structures'

export interface StatisticsSettings {
  /** Proteins kept per feature by max activation. */
  topK: number
  /** Activation-quantile buckets for samples (InterPLM uses 10). */
  buckets: number
  samplesPerBucket: number
  /** Thresholds as fractions of the feature's max, increasing, first usually 0. */
  thresholds: number[]
  /** Probabilities of the reported quantiles. */
  quantiles: number[]
  /** Bins of the detail histogram. */
  histogramBins: number
  /** How concepts are scored (false-positive scope, split by note, minimum instances). */
  concepts: ConceptScoring
}

export const DEFAULT_STATISTICS: StatisticsSettings = {
  topK: 20,
  buckets: 10,
  samplesPerBucket: 3,
  thresholds: [0, 0.15, 0.3, 0.5, 0.6, 0.8],
  quantiles: [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99],
  histogramBins: 64,
  concepts: DEFAULT_CONCEPT_SCORING
}

/** Bins of the internal histogram the quantiles come from. */
export const FINE_BINS = 512

export interface ScanItem {
  proteinId: number
  latents: FeatureMajorLatents
  /** The protein's annotations (passes 1 and 2); undefined or [] when it has none. */
  annotations?: ResidueAnnotation[]
  /** The protein's sequence (pass 3, for the label cards). */
  sequence?: string
  /** The protein's accession (pass 3, to find its structure for the label cards). */
  accession?: string
}

/** One example protein of a feature, as read back from the examples blob. */
export interface Example {
  /** 0 = top-k, 1 = quantile-bucket sample. */
  kind: 0 | 1
  bucket: number
  rank: number
  proteinId: number
  max: number
  mean: number
  /** 0-based residue of the max. */
  argmax: number
  firing: number
  /** Dense per-residue activations (length = the protein's length). */
  activations: number[]
}

/** A (feature, concept) association as computed: `ConceptAssociation` with the counts behind its scores. */
export interface ConceptRow extends Omit<
  ConceptAssociation,
  'truePositives' | 'byThreshold' | 'note' | 'perResidue' | 'domain'
> {
  feature: number
  /** '' for the whole type. */
  note: string
  perResidue: boolean
  tp: number
  byThreshold: (Required<ConceptThresholdScore> & { tp: number; predicted: number; foundInstances: number })[]
  /** InterPLM's metric at its best threshold. */
  domain: ConceptDomainScore
}

/** One feature's statistics as computed (`FeatureStats` without the run's totals, with what is stored beside them). */
export interface FeatureRow extends Omit<FeatureStats, 'totalResidues' | 'totalProteins'> {
  feature: number
  dead: boolean
  best: ConceptRow | undefined
  /** Best concept by InterPLM's F1 (per-domain recall). */
  bestDomain: ConceptRow | undefined
  card: FeatureLabelCard
  histSmall: number[]
  histogram: Histogram
  quantiles: Quantile[]
}

export interface StatisticsResult {
  proteins: number
  residues: number
  annotatedProteins: number
  annotatedResidues: number
  features: FeatureRow[]
  concepts: ConceptRow[]
  /** The scored concepts and their instance counts. */
  catalogue: { type: AnnotationType; note: string; instances: number; positives: number }[]
  /** Per feature, its examples blob (empty for dead features). */
  examples: Uint8Array[]
}

/** A deterministic 32-bit mix of (feature, protein) for order-independent sampling. */
export function sampleHash(feature: number, proteinId: number): number {
  let h = Math.imul(feature ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(proteinId + 0x632be5ab, 0xc2b2ae35)
  h ^= h >>> 16
  h = Math.imul(h, 0x7feb352d)
  h ^= h >>> 15
  h = Math.imul(h, 0x846ca68b)
  h ^= h >>> 16
  return h >>> 0
}

/** Better top-k entry: higher value, then smaller protein id. */
function better(v1: number, p1: number, v2: number, p2: number): boolean {
  return v1 > v2 || (v1 === v2 && p1 < p2)
}

export class FeatureStatisticsBuilder {
  private readonly d: number
  private readonly k: number
  private proteins = 0
  private residues = 0
  private annotatedProteins = 0
  private annotatedResidues = 0
  private readonly firingResidues: Float64Array
  private readonly firingProteins: Uint32Array
  private readonly sum: Float64Array
  private readonly sumSq: Float64Array
  private readonly max: Float32Array
  // top-k min-heaps (root = worst kept)
  private readonly topVal: Float32Array
  private readonly topPid: Int32Array
  private readonly topN: Uint16Array
  // pass 2
  private readonly fine: Uint32Array
  private readonly levels: number
  private readonly predicted: Float64Array
  // concepts: counted in pass 1, fixed at endPass1; per (feature, concept, highest level exceeded)
  private readonly conceptCounter: ConceptCounter
  private catalogue: ConceptCatalogue | undefined
  private tp = new Float64Array(0)
  private tpInstances = new Float64Array(0)
  private positives = new Float64Array(0)
  private instanceCounters = new Int32Array(0)
  private readonly cards: LabelCardAccumulator
  // samples per (feature, bucket): the S smallest (hash, protein id), kept sorted
  private readonly sHash: Uint32Array
  private readonly sPid: Int32Array
  private readonly sN: Uint8Array
  // pass 3: the chosen (feature, kind, bucket, rank) of each protein, and the per-feature example writers
  private chosen = new Map<number, number[]>()
  private writers: (ByteWriter | undefined)[] = []
  private exampleCounts: Uint16Array
  private phase: 1 | 2 | 3 = 1

  constructor(
    readonly dSae: number,
    readonly settings: StatisticsSettings = DEFAULT_STATISTICS,
    /** The project's structures, for the 3D clustering of the label cards (none: cards without it). */
    private readonly structures?: ProteinStructures
  ) {
    const d = (this.d = dSae)
    this.k = Math.max(0, settings.topK)
    this.firingResidues = new Float64Array(d)
    this.firingProteins = new Uint32Array(d)
    this.sum = new Float64Array(d)
    this.sumSq = new Float64Array(d)
    this.max = new Float32Array(d)
    this.topVal = new Float32Array(d * this.k)
    this.topPid = new Int32Array(d * this.k)
    this.topN = new Uint16Array(d)
    this.fine = new Uint32Array(d * FINE_BINS)
    this.levels = settings.thresholds.length
    this.predicted = new Float64Array(d * this.levels)
    this.conceptCounter = new ConceptCounter(settings.concepts ?? DEFAULT_CONCEPT_SCORING)
    this.cards = new LabelCardAccumulator(d)
    const slots = d * settings.buckets * settings.samplesPerBucket
    this.sHash = new Uint32Array(slots)
    this.sPid = new Int32Array(slots)
    this.sN = new Uint8Array(d * settings.buckets)
    this.exampleCounts = new Uint16Array(d)
    if (settings.samplesPerBucket > 255) throw new Error('samplesPerBucket must be at most 255')
  }

  // ---- pass 1 ------------------------------------------------------------------------------------------

  addPass1(item: ScanItem): void {
    if (this.phase !== 1) throw new Error('addPass1 after endPass1')
    const m = item.latents
    this.proteins++
    this.residues += m.rows
    if (item.annotations?.some(a => CONCEPT_TYPES.includes(a.type))) {
      this.annotatedProteins++
      this.annotatedResidues += m.rows
      this.conceptCounter.add(m.rows, item.annotations)
    }
    const pid = item.proteinId
    for (let i = 0; i < m.featureIds.length; i++) {
      const f = m.featureIds[i]
      let pmax = 0
      let s = 0
      let s2 = 0
      for (let e = m.start[i]; e < m.start[i + 1]; e++) {
        const v = m.values[e]
        if (v > pmax) pmax = v
        s += v
        s2 += v * v
      }
      this.firingResidues[f] += m.start[i + 1] - m.start[i]
      this.firingProteins[f]++
      this.sum[f] += s
      this.sumSq[f] += s2
      if (pmax > this.max[f]) this.max[f] = pmax
      if (this.k > 0) this.pushTop(f, pmax, pid)
    }
  }

  private pushTop(f: number, v: number, pid: number): void {
    const base = f * this.k
    const vals = this.topVal
    const pids = this.topPid
    let n = this.topN[f]
    if (n < this.k) {
      // sift up: parent must be "worse" than child
      let i = n++
      this.topN[f] = n
      while (i > 0) {
        const p = (i - 1) >> 1
        if (better(v, pid, vals[base + p], pids[base + p])) break
        vals[base + i] = vals[base + p]
        pids[base + i] = pids[base + p]
        i = p
      }
      vals[base + i] = v
      pids[base + i] = pid
      return
    }
    if (!better(v, pid, vals[base], pids[base])) return
    // replace root, sift down
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= n) break
      const r = l + 1
      let w = l
      if (r < n && better(vals[base + l], pids[base + l], vals[base + r], pids[base + r])) w = r
      if (better(vals[base + w], pids[base + w], v, pid)) break
      vals[base + i] = vals[base + w]
      pids[base + i] = pids[base + w]
      i = w
    }
    vals[base + i] = v
    pids[base + i] = pid
  }

  endPass1(): void {
    this.phase = 2
    const cat = (this.catalogue = this.conceptCounter.catalogue())
    const C = cat.size
    this.tp = new Float64Array(this.d * C * this.levels)
    this.tpInstances = new Float64Array(this.d * C * this.levels)
    this.positives = new Float64Array(C)
    this.instanceCounters = new Int32Array(C)
  }

  // ---- pass 2 ------------------------------------------------------------------------------------------

  addPass2(item: ScanItem): void {
    if (this.phase !== 2) throw new Error('addPass2 before endPass1')
    const m = item.latents
    const pid = item.proteinId
    const thresholds = this.settings.thresholds
    const L = this.levels
    const C = this.catalogue!.size
    const B = this.settings.buckets
    const S = this.settings.samplesPerBucket
    const annotated = item.annotations?.some(a => CONCEPT_TYPES.includes(a.type)) ?? false
    const layout = annotated
      ? conceptLayout(m.rows, item.annotations!, this.catalogue!, this.instanceCounters)
      : undefined
    const countPredicted = annotated || this.settings.concepts?.falsePositives === 'all'
    if (layout) for (let k = 0; k < layout.concepts.length; k++) this.positives[layout.concepts[k]]++
    const perResidue = this.catalogue!.perResidue
    const instLevel = layout ? new Uint8Array(layout.instanceConcept.length) : undefined
    const touched: number[] = []
    for (let i = 0; i < m.featureIds.length; i++) {
      const f = m.featureIds[i]
      const M = this.max[f]
      const a = m.start[i]
      const b = m.start[i + 1]
      let pmax = 0
      const fineBase = f * FINE_BINS
      for (let e = a; e < b; e++) {
        const v = m.values[e]
        if (v > pmax) pmax = v
        let bin = M > 0 ? Math.floor((v / M) * FINE_BINS) : 0
        if (bin >= FINE_BINS) bin = FINE_BINS - 1
        this.fine[fineBase + bin]++
        if (countPredicted) {
          let level = 0
          while (level < L && v > thresholds[level] * M) level++
          if (level === 0) continue
          this.predicted[f * L + level - 1]++
          if (!layout) continue
          const r = m.residues[e]
          for (let k = layout.conceptStart[r]; k < layout.conceptStart[r + 1]; k++)
            this.tp[(f * C + layout.concepts[k]) * L + level - 1]++
          for (let k = layout.instanceStart[r]; k < layout.instanceStart[r + 1]; k++) {
            const inst = layout.instances[k]
            if (instLevel![inst] < level) {
              if (instLevel![inst] === 0) touched.push(inst)
              instLevel![inst] = level
            }
          }
        }
      }
      if (touched.length > 0) {
        for (const inst of touched) {
          const c = layout!.instanceConcept[inst]
          if (!perResidue[c]) this.tpInstances[(f * C + c) * L + instLevel![inst] - 1]++
          instLevel![inst] = 0
        }
        touched.length = 0
      }
      if (B > 0 && S > 0 && M > 0) {
        let bucket = Math.ceil((pmax / M) * B) - 1
        if (bucket < 0) bucket = 0
        if (bucket >= B) bucket = B - 1
        this.offerSample(f * B + bucket, sampleHash(f, pid), pid)
      }
    }
  }

  /** Keeps the S smallest (hash, protein id) of a (feature, bucket) slot, sorted. */
  private offerSample(slot: number, hash: number, pid: number): void {
    const S = this.settings.samplesPerBucket
    const base = slot * S
    let n = this.sN[slot]
    if (n === S) {
      const lh = this.sHash[base + n - 1]
      if (hash > lh || (hash === lh && pid >= this.sPid[base + n - 1])) return
      n--
    } else {
      this.sN[slot] = n + 1
    }
    let at = n
    while (at > 0) {
      const h = this.sHash[base + at - 1]
      if (h < hash || (h === hash && this.sPid[base + at - 1] < pid)) break
      this.sHash[base + at] = h
      this.sPid[base + at] = this.sPid[base + at - 1]
      at--
    }
    this.sHash[base + at] = hash
    this.sPid[base + at] = pid
  }

  /** After pass 2: which proteins pass 3 must visit (the top-k and the samples of every feature). */
  endPass2(): Set<number> {
    this.phase = 3
    const add = (pid: number, f: number, kind: number, bucket: number, rank: number): void => {
      let list = this.chosen.get(pid)
      if (!list) this.chosen.set(pid, (list = []))
      list.push(f, kind, bucket, rank)
    }
    const B = this.settings.buckets
    const S = this.settings.samplesPerBucket
    for (let f = 0; f < this.d; f++) {
      const n = this.topN[f]
      const entries: [number, number][] = []
      for (let j = 0; j < n; j++) entries.push([this.topVal[f * this.k + j], this.topPid[f * this.k + j]])
      entries.sort((a, b) => (better(a[0], a[1], b[0], b[1]) ? -1 : better(b[0], b[1], a[0], a[1]) ? 1 : 0))
      entries.forEach(([, pid], rank) => add(pid, f, 0, 0, rank))
      for (let b = 0; b < B; b++) {
        const slot = f * B + b
        for (let j = 0; j < this.sN[slot]; j++) add(this.sPid[slot * S + j], f, 1, b, j)
      }
    }
    return new Set(this.chosen.keys())
  }

  // ---- pass 3 ------------------------------------------------------------------------------------------

  addPass3(item: ScanItem): void {
    if (this.phase !== 3) throw new Error('addPass3 before endPass2')
    const list = this.chosen.get(item.proteinId)
    if (!list) return
    const m = item.latents
    for (let q = 0; q < list.length; q += 4) {
      const f = list[q]
      const i = binarySearch(m.featureIds, f)
      if (i < 0) continue
      const a = m.start[i]
      const b = m.start[i + 1]
      let pmax = 0
      let argmax = 0
      let s = 0
      for (let e = a; e < b; e++) {
        const v = m.values[e]
        s += v
        if (v > pmax) {
          pmax = v
          argmax = m.residues[e]
        }
      }
      let w = this.writers[f]
      if (!w) this.writers[f] = w = new ByteWriter(256)
      w.u8(list[q + 1])
      w.varint(list[q + 2])
      w.varint(list[q + 3])
      w.varint(item.proteinId)
      w.f32(pmax)
      w.f32(s / m.rows)
      w.varint(argmax)
      w.varint(b - a)
      writeTrack(w, m.residues, m.values, a, b)
      this.exampleCounts[f]++
      if (list[q + 1] === 0 && item.sequence !== undefined)
        this.cards.add(
          f,
          item.sequence,
          m.residues,
          m.values,
          a,
          b,
          CARD_FIRING_FRACTION * this.max[f],
          item.accession !== undefined ? this.structures?.trackOf(item.accession, item.sequence) : undefined
        )
    }
  }

  // ---- results -----------------------------------------------------------------------------------------

  finish(): StatisticsResult {
    const st = this.settings
    const L = this.levels
    const cat = this.catalogue!
    const C = cat.size
    const features: FeatureRow[] = []
    const concepts: ConceptRow[] = []
    const featureConcepts: { type: AnnotationType; note: string; f1: number; f1Domain: number }[] = []
    for (let f = 0; f < this.d; f++) {
      const n = this.firingResidues[f]
      const M = this.max[f]
      const mean = n > 0 ? this.sum[f] / n : 0
      const variance = n > 0 ? Math.max(0, this.sumSq[f] / n - mean * mean) : 0
      const fine = this.fine.subarray(f * FINE_BINS, (f + 1) * FINE_BINS)
      // concepts
      let best: ConceptRow | undefined
      let bestDomain: ConceptRow | undefined
      if (this.annotatedProteins > 0 && n > 0) {
        const predAt = suffixSums(this.predicted, f * L, L)
        for (let c = 0; c < C; c++) {
          const pos = this.positives[c]
          if (pos === 0) continue
          const tpAt = suffixSums(this.tp, (f * C + c) * L, L)
          if (tpAt[0] === 0) continue
          const perResidue = cat.perResidue[c]
          const instances = this.instanceCounters[c]
          const foundAt = suffixSums(this.tpInstances, (f * C + c) * L, L)
          const byThreshold = conceptScores(
            st.thresholds,
            { tp: tpAt, predicted: predAt, found: perResidue ? tpAt.map(() => 0) : foundAt },
            pos,
            instances,
            perResidue
          )
          let j = 0
          let k = 0
          for (let q = 1; q < byThreshold.length; q++) {
            if (byThreshold[q].f1 > byThreshold[j].f1) j = q
            const bq = byThreshold[q]
            const bk = byThreshold[k]
            if (bq.f1Domain > bk.f1Domain || (bq.f1Domain === bk.f1Domain && bq.f1 > bk.f1)) k = q
          }
          const key = cat.keys[c]
          const row: ConceptRow = {
            feature: f,
            type: key.type,
            note: key.note,
            perResidue,
            threshold: st.thresholds[j],
            precision: byThreshold[j].precision,
            recall: byThreshold[j].recall,
            f1: byThreshold[j].f1,
            tp: tpAt[j],
            predicted: predAt[j],
            positives: pos,
            byThreshold,
            domain: {
              threshold: st.thresholds[k],
              precision: byThreshold[k].precision,
              recall: byThreshold[k].recallDomain,
              f1: byThreshold[k].f1Domain,
              foundInstances: perResidue ? byThreshold[k].tp : foundAt[k],
              instances: perResidue ? pos : instances
            }
          }
          concepts.push(row)
          if (!best || row.f1 > best.f1) best = row
          if (
            !bestDomain ||
            row.domain.f1 > bestDomain.domain.f1 ||
            (row.domain.f1 === bestDomain.domain.f1 && row.f1 > bestDomain.f1)
          )
            bestDomain = row
          featureConcepts.push({ type: row.type, note: row.note, f1: row.f1, f1Domain: row.domain.f1 })
        }
      }
      const card = this.cards.card(f, featureConcepts)
      featureConcepts.length = 0
      features.push({
        feature: f,
        firingResidues: n,
        firingProteins: this.firingProteins[f],
        freqResidue: this.residues > 0 ? n / this.residues : 0,
        freqProtein: this.proteins > 0 ? this.firingProteins[f] / this.proteins : 0,
        max: M,
        meanNonzero: mean,
        stdNonzero: Math.sqrt(variance),
        dead: n === 0,
        best,
        bestDomain,
        card,
        histSmall: coarsen(fine, SMALL_HISTOGRAM_BINS),
        histogram: { edges: edges(M, st.histogramBins), counts: coarsen(fine, st.histogramBins) },
        quantiles: st.quantiles.map(p => ({ p, value: quantileOf(fine, n, M, p) }))
      })
    }
    const examples: Uint8Array[] = []
    for (let f = 0; f < this.d; f++) {
      const w = new ByteWriter(8)
      w.varint(this.exampleCounts[f])
      const head = w.bytes()
      const body = this.writers[f]?.bytes() ?? new Uint8Array(0)
      const blob = new Uint8Array(head.length + body.length)
      blob.set(head)
      blob.set(body, head.length)
      examples.push(blob)
      this.writers[f] = undefined
    }
    return {
      proteins: this.proteins,
      residues: this.residues,
      annotatedProteins: this.annotatedProteins,
      annotatedResidues: this.annotatedResidues,
      features,
      concepts,
      catalogue: cat.keys.map((k, c) => ({
        type: k.type,
        note: k.note,
        instances: this.instanceCounters[c],
        positives: this.positives[c]
      })),
      examples
    }
  }
}

/**
 * The counts of one (feature, concept) per threshold, as stored (`feature_concepts.by_threshold`): plain integers
 * that add up over disjoint sets of proteins (`found` is 0 for per-residue concepts).
 */
export interface ConceptCounts {
  tp: number[]
  predicted: number[]
  found: number[]
}

/** Precision, recall, F1 and InterPLM's per-domain recall and F1 at every threshold, from the counts. */
export function conceptScores(
  thresholds: number[],
  c: ConceptCounts,
  positives: number,
  instances: number,
  perResidue: boolean
): ConceptRow['byThreshold'] {
  return thresholds.map((threshold, j) => {
    const precision = c.predicted[j] > 0 ? c.tp[j] / c.predicted[j] : 0
    const recall = positives > 0 ? c.tp[j] / positives : 0
    const recallDomain = perResidue ? recall : instances > 0 ? c.found[j] / instances : 0
    return {
      threshold,
      precision,
      recall,
      f1: harmonic(precision, recall),
      recallDomain,
      f1Domain: harmonic(precision, recallDomain),
      tp: c.tp[j],
      predicted: c.predicted[j],
      foundInstances: c.found[j]
    }
  })
}

function harmonic(p: number, r: number): number {
  return p + r > 0 ? (2 * p * r) / (p + r) : 0
}

/** Index of `x` in the increasing array `a`, or -1. */
export function binarySearch(a: Uint32Array, x: number): number {
  let lo = 0
  let hi = a.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1
    if (a[mid] === x) return mid
    if (a[mid] < x) lo = mid + 1
    else hi = mid - 1
  }
  return -1
}

/** out[j] = Σ_{l ≥ j} a[base + l]: the count above threshold j from counts per "highest threshold exceeded". */
function suffixSums(a: Float64Array, base: number, n: number): number[] {
  const out = new Array<number>(n).fill(0)
  let acc = 0
  for (let j = n - 1; j >= 0; j--) {
    acc += a[base + j]
    out[j] = acc
  }
  return out
}

function coarsen(fine: Uint32Array, bins: number): number[] {
  const out = new Array<number>(bins).fill(0)
  for (let i = 0; i < fine.length; i++) out[Math.min(bins - 1, Math.floor((i * bins) / fine.length))] += fine[i]
  return out
}

function edges(max: number, bins: number): number[] {
  const out: number[] = []
  for (let i = 0; i <= bins; i++) out.push((max * i) / bins)
  return out
}

/** Quantile p of the n nonzero values from their fine histogram over [0, max] (linear within a bin). */
function quantileOf(fine: Uint32Array, n: number, max: number, p: number): number {
  if (n === 0 || max === 0) return 0
  const target = p * n
  let cum = 0
  for (let i = 0; i < fine.length; i++) {
    const c = fine[i]
    if (c > 0 && cum + c >= target) {
      const within = (target - cum) / c
      return Math.min(max, (max * (i + Math.max(0, Math.min(1, within)))) / fine.length)
    }
    cum += c
  }
  return max
}

/** The examples of a feature from its blob; `lengthOf` gives each protein's length (for the dense tracks). */
export function readExamples(blob: Uint8Array, lengthOf: (proteinId: number) => number): Example[] {
  const r = new ByteReader(blob)
  const n = r.varint()
  const out: Example[] = []
  for (let i = 0; i < n; i++) {
    const kind = r.u8() as 0 | 1
    const bucket = r.varint()
    const rank = r.varint()
    const proteinId = r.varint()
    const max = r.f32()
    const mean = r.f32()
    const argmax = r.varint()
    const firing = r.varint()
    const activations = readTrack(r, lengthOf(proteinId))
    out.push({ kind, bucket, rank, proteinId, max, mean, argmax, firing, activations })
  }
  return out.sort((a, b) => a.kind - b.kind || a.bucket - b.bucket || a.rank - b.rank)
}

/** Protein ids in an examples blob, without decoding the tracks' values. */
export function exampleProteinIds(blob: Uint8Array): number[] {
  const r = new ByteReader(blob)
  const n = r.varint()
  const ids: number[] = []
  for (let i = 0; i < n; i++) {
    r.u8()
    r.varint()
    r.varint()
    ids.push(r.varint())
    r.f32()
    r.f32()
    r.varint()
    r.varint()
    const k = r.varint()
    for (let j = 0; j < k; j++) r.varint()
    r.pos += 2 * k
  }
  return ids
}
