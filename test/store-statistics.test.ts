import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FINE_BINS, sampleHash, DEFAULT_STATISTICS } from '../src/main/engine/store/feature-statistics'
import type { LatentStore } from '../src/main/engine/store/latent-store'
import { CONCEPT_TYPES } from '../src/shared/store-types'
import { tempDir } from './helpers/tmp'
import { syntheticStore } from './helpers/store-fixture'
import { referenceConcept, referenceStats, type DenseProtein, type ReferenceStats } from './reference/store-reference'

const tmp = tempDir('store-stats')
let store: LatentStore
let runId: number
let dense: DenseProtein[]
let width: number
let ref: ReferenceStats
const settings = { ...DEFAULT_STATISTICS, topK: 5, buckets: 4, samplesPerBucket: 2 }

beforeAll(async () => {
  ;({ store, runId, dense, width } = await syntheticStore(tmp.dir, { proteins: 80, width: 20, stats: settings }))
  ref = referenceStats(dense, width)
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

const close = (a: number, b: number, tol = 1e-9) =>
  expect(Math.abs(a - b)).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b)))

describe('per-feature statistics against a brute-force computation from dense latents', () => {
  it('frequency, max, mean and std of nonzeros, dead features', () => {
    const list = store.features.list({ runId, limit: 1000 }).items
    expect(list.length).toBe(width)
    for (const f of list) {
      const j = f.id
      close(f.freqResidue, ref.firingResidues[j] / ref.residues)
      close(f.freqProtein, ref.firingProteins[j] / ref.proteins)
      close(f.max, ref.max[j], 1e-7)
      close(f.meanNonzero, ref.meanNz[j], 1e-7)
      expect(f.dead).toBe(ref.firingResidues[j] === 0)
      const d = store.features.detail(j, { runId })
      close(d.stats.stdNonzero, ref.stdNz[j], 1e-5)
      expect(d.stats.firingResidues).toBe(ref.firingResidues[j])
      expect(d.stats.firingProteins).toBe(ref.firingProteins[j])
      expect(d.stats.totalResidues).toBe(ref.residues)
    }
    expect(list[width - 1].dead).toBe(true)
    expect(store.features.list({ runId, status: 'dead' }).items.map(f => f.id)).toEqual([width - 1])
  })

  it('histogram counts and quantiles (within one fine bin of max/512)', () => {
    for (let j = 0; j < width - 1; j++) {
      const d = store.features.detail(j, { runId })
      const bins = settings.histogramBins
      const counts = new Array(bins).fill(0)
      for (const v of ref.values[j]) counts[Math.min(bins - 1, Math.floor((v / ref.max[j]) * bins))]++
      expect(d.histogram.counts).toEqual(counts)
      expect(d.histogram.edges.length).toBe(bins + 1)
      close(d.histogram.edges[bins], ref.max[j], 1e-7)
      expect(d.summary.histogram.reduce((a, b) => a + b, 0)).toBe(ref.values[j].length)
      for (const q of d.quantiles) {
        const vs = ref.values[j]
        const exact = vs[Math.max(0, Math.ceil(q.p * vs.length) - 1)]
        expect(Math.abs(q.value - exact)).toBeLessThanOrEqual((ref.max[j] / FINE_BINS) * 1.001)
      }
    }
  })

  it('top-k proteins by max, with their per-residue tracks and annotations', () => {
    for (let j = 0; j < width - 1; j++) {
      const d = store.features.detail(j, { runId })
      const expected = ref.ranking[j].slice(0, settings.topK)
      expect(d.topProteins.map(p => p.protein.id)).toEqual(expected.map(e => e[0]))
      for (const [i, tp] of d.topProteins.entries()) {
        close(tp.max, expected[i][1], 1e-7)
        const p = dense.find(x => x.proteinId === tp.protein.id)!
        const track = Array.from({ length: p.length }, (_, r) => p.dense[r * width + j])
        expect(tp.activations).toEqual(track)
        expect(tp.sequence.length).toBe(p.length)
        expect(tp.annotations).toEqual(p.annotations)
        expect(track[tp.argmax - 1]).toBe(tp.max)
        close(tp.mean, track.reduce((a, b) => a + b, 0) / p.length, 1e-6)
      }
    }
  })

  it('quantile-bucket samples: the lowest-hash proteins of each bucket of per-protein max', () => {
    for (let j = 0; j < width - 1; j++) {
      const d = store.features.detail(j, { runId })
      expect(d.quantileSamples.length).toBe(settings.buckets)
      for (const b of d.quantileSamples) {
        const members = ref.ranking[j].filter(([, m]) => {
          const k = Math.min(settings.buckets - 1, Math.max(0, Math.ceil((m / ref.max[j]) * settings.buckets) - 1))
          return k === b.bucket
        })
        const chosen = members
          .map(([pid]) => ({ pid, h: sampleHash(j, pid) }))
          .sort((x, y) => x.h - y.h || x.pid - y.pid)
          .slice(0, settings.samplesPerBucket)
          .map(x => x.pid)
        expect(b.proteins.map(p => p.protein.id)).toEqual(chosen)
        for (const p of b.proteins) {
          expect(p.max).toBeGreaterThan(b.lower - 1e-6)
          expect(p.max).toBeLessThanOrEqual(b.upper + 1e-6)
        }
      }
    }
  })

  it('concept association: precision, recall and F1 at every threshold; the best kept', () => {
    let checked = 0
    for (let j = 0; j < width - 1; j++) {
      const d = store.features.detail(j, { runId })
      for (const c of d.concepts) {
        for (const bt of c.byThreshold) {
          const r = referenceConcept(dense, width, j, c.type, bt.threshold, ref.max[j])
          close(bt.precision, r.precision)
          close(bt.recall, r.recall)
          close(bt.f1, r.f1)
          checked++
        }
        expect(c.f1).toBe(Math.max(...c.byThreshold.map(b => b.f1)))
      }
      // every concept type with any true positive is listed
      for (const type of ['helix', 'transmembrane', 'disulfide_bond']) {
        const r = referenceConcept(dense, width, j, type, 0, ref.max[j])
        expect(d.concepts.some(c => c.type === type)).toBe(r.tp > 0)
      }
      if (d.concepts.length) expect(d.summary.bestConcept?.f1).toBe(d.concepts[0].f1)
    }
    expect(checked).toBeGreaterThan(50)
    // the planted features find their concepts
    expect(store.features.detail(0, { runId }).summary.bestConcept?.type).toBe('helix')
    expect(store.features.detail(1, { runId }).summary.bestConcept?.type).toBe('transmembrane')
    expect(store.features.detail(2, { runId }).summary.bestConcept).toMatchObject({ type: 'disulfide_bond', f1: 1 })
    expect(store.features.detail(0, { runId }).summary.bestConcept!.f1).toBeGreaterThan(0.8)
    expect(CONCEPT_TYPES).not.toContain('chain')
  })

  it('recomputing gives identical statistics (idempotent) and marks them up to date', async () => {
    const before = store.features.detail(5, { runId })
    expect(store.statsUpToDate(runId)).toBe(true)
    await store.computeStatistics(runId, settings)
    expect(store.features.detail(5, { runId })).toEqual(before)
  })
})
