import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LatentStore } from '../src/main/engine/store/latent-store'
import { featureMajorOf } from '../src/main/engine/store/latent-codec'
import { sparsify } from '../src/main/engine/sae/sparse-latents'
import { tempDir } from './helpers/tmp'
import { syntheticStore } from './helpers/store-fixture'
import { referenceStats, type DenseProtein, type ReferenceStats } from './reference/store-reference'

const tmp = tempDir('store-queries')
let store: LatentStore
let runId: number
let dense: DenseProtein[]
let width: number
let ref: ReferenceStats

beforeAll(async () => {
  ;({ store, runId, dense, width } = await syntheticStore(tmp.dir, { proteins: 50, width: 30 }))
  ref = referenceStats(dense, width)
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

describe('feature list', () => {
  it('sorts by each key in both directions, pages, and counts before paging', () => {
    const all = store.features.list({ runId, limit: 1000 }).items
    const byMaxDesc = [...all].sort((a, b) => b.max - a.max || b.id - a.id).map(f => f.id) // ties follow the direction
    expect(store.features.list({ sort: { key: 'max', dir: 'desc' }, limit: 1000 }).items.map(f => f.id)).toEqual(
      byMaxDesc
    )
    const byFreqAsc = [...all].sort((a, b) => a.freqResidue - b.freqResidue || a.id - b.id).map(f => f.id)
    expect(store.features.list({ sort: { key: 'freqResidue', dir: 'asc' }, limit: 1000 }).items.map(f => f.id)).toEqual(
      byFreqAsc
    )
    const byF1 = [...all]
      .sort((a, b) => (b.bestConcept?.f1 ?? 0) - (a.bestConcept?.f1 ?? 0) || b.id - a.id)
      .map(f => f.id)
    expect(store.features.list({ sort: { key: 'bestF1', dir: 'desc' }, limit: 1000 }).items.map(f => f.id)).toEqual(
      byF1
    )
    const page = store.features.list({ sort: { key: 'max', dir: 'desc' }, offset: 10, limit: 7 })
    expect(page.total).toBe(width)
    expect(page.offset).toBe(10)
    expect(page.items.map(f => f.id)).toEqual(byMaxDesc.slice(10, 17))
    expect(store.features.list({ sort: { key: 'id', dir: 'desc' }, limit: 3 }).items.map(f => f.id)).toEqual([
      29, 28, 27
    ])
  })

  it('filters by frequency, max, dead/alive, concept type, F1 and ids', () => {
    const minFreq = 0.05
    const expected = ref.firingResidues
      .map((n, j) => [j, n / ref.residues] as const)
      .filter(([, f]) => f >= minFreq)
      .map(([j]) => j)
    const res = store.features.list({ minFreqResidue: minFreq, limit: 1000 })
    expect(res.items.map(f => f.id)).toEqual(expected)
    expect(res.total).toBe(expected.length)
    const minMax = 4
    expect(store.features.list({ minMax, limit: 1000 }).items.map(f => f.id)).toEqual(
      ref.max
        .map((m, j) => [j, m] as const)
        .filter(([, m]) => m >= minMax)
        .map(([j]) => j)
    )
    expect(store.features.list({ status: 'alive', limit: 1000 }).total).toBe(width - 1)
    const helix = store.features.list({ conceptType: 'helix', limit: 1000 }).items
    expect(helix.map(f => f.id)).toContain(0)
    expect(helix.every(f => f.bestConcept?.type === 'helix')).toBe(true)
    expect(store.features.list({ conceptType: 'none', limit: 1000 }).items.every(f => f.bestConcept === null)).toBe(
      true
    )
    expect(store.features.list({ minF1: 0.99, limit: 1000 }).items.map(f => f.id)).toContain(2)
    expect(store.features.list({ ids: [3, 1, 99], limit: 1000 }).items.map(f => f.id)).toEqual([1, 3])
  })

  it('text search over ids, labels, notes and concept names; labels and notes persist', () => {
    store.setFeatureLabel({ feature: 7, label: 'Kinase hinge?' })
    store.setFeatureLabel({ feature: 9, notes: 'looks like a 100% kinase_ motif' })
    expect(store.setFeatureLabel({ feature: 7, notes: 'n' })).toEqual({ label: 'Kinase hinge?', notes: 'n' })
    expect(store.features.list({ text: 'kinase' }).items.map(f => f.id)).toEqual([7, 9])
    expect(store.features.list({ text: '100%' }).items.map(f => f.id)).toEqual([9])
    expect(store.features.list({ text: '%' }).items.map(f => f.id)).toEqual([9]) // % is literal, not a wildcard
    expect(store.features.list({ text: '12' }).items.map(f => f.id)).toEqual([12])
    expect(store.features.list({ text: '#12' }).items.map(f => f.id)).toEqual([12])
    expect(store.features.list({ text: 'Disulfide' }).items.map(f => f.id)).toContain(2)
    expect(store.features.list({ text: 'transmembrane' }).items.map(f => f.id)).toContain(1)
    const f7 = store.features.detail(7)
    expect([f7.label, f7.notes, f7.summary.hasNotes]).toEqual(['Kinase hinge?', 'n', true])
    expect(store.features.list({ sort: { key: 'label', dir: 'asc' }, limit: 2 }).items.map(f => f.label)).toEqual([
      'Kinase hinge?',
      ''
    ])
    expect(() => store.setFeatureLabel({ feature: 30, label: 'x' })).toThrow(/0\.\.29/)
  })

  it('overview columns and export as CSV and JSON', () => {
    const o = store.features.overview()
    expect(o.ids.length).toBe(width)
    expect(o.max[0]).toBeCloseTo(ref.max[0], 6)
    const csv = store.features.export({ format: 'csv', sort: { key: 'max', dir: 'desc' } })
    const lines = csv.trim().split('\n')
    expect(lines[0]).toBe(
      'feature,label,best_concept,best_f1,best_precision,best_recall,best_threshold,freq_residue,freq_protein,max,mean_nonzero,dead,best_concept_note,best_domain_concept,best_domain_concept_note,best_domain_f1,best_domain_recall,best_domain_threshold,generated_label'
    )
    expect(lines.length).toBe(width + 1)
    const row7 = lines.find(l => l.startsWith('7,'))!
    expect(row7.startsWith('7,Kinase hinge?,')).toBe(true)
    const json = JSON.parse(store.features.export({ format: 'json', conceptType: 'helix' })) as {
      runId: number
      features: { feature: number; best_concept: string }[]
    }
    expect(json.runId).toBe(runId)
    expect(json.features.every(f => f.best_concept === 'helix')).toBe(true)
    store.setFeatureLabel({ feature: 4, label: 'a "quoted", label' })
    expect(
      store.features
        .export({ format: 'csv', ids: [4] })
        .split('\n')[1]
        .startsWith('4,"a ""quoted"", label",')
    ).toBe(true)
  })
})

describe('one protein', () => {
  it('lists the features that fire over a residue range, sorted by max or mean (brute force)', () => {
    const p = dense[3]
    const prot = store.proteins.get(p.proteinId)!
    const range = { start: 3, end: Math.min(p.length, 20) }
    for (const sortBy of ['max', 'mean'] as const) {
      const res = store.proteins.features({ protein: prot.accession, range, sortBy, limit: 1000, withTracks: 2 })
      const expected: { feature: number; max: number; mean: number }[] = []
      for (let f = 0; f < width; f++) {
        let max = 0
        let sum = 0
        for (let r = range.start - 1; r < range.end; r++) {
          const v = p.dense[r * width + f]
          sum += v
          max = Math.max(max, v)
        }
        if (max > 0) expected.push({ feature: f, max, mean: sum / (range.end - range.start + 1) })
      }
      expected.sort((a, b) => (sortBy === 'max' ? b.max - a.max : b.mean - a.mean) || a.feature - b.feature)
      expect(res.items.map(h => h.feature)).toEqual(expected.map(e => e.feature))
      expect(res.total).toBe(expected.length)
      res.items.forEach((h, i) => {
        expect(h.max).toBeCloseTo(expected[i].max, 6)
        expect(h.mean).toBeCloseTo(expected[i].mean, 6)
        expect(p.dense[(h.argmax - 1) * width + h.feature]).toBe(h.max)
        expect(h.argmax).toBeGreaterThanOrEqual(range.start)
        expect(h.argmax).toBeLessThanOrEqual(range.end)
      })
      expect(res.items[0].activations?.length).toBe(p.length)
      expect(res.items[2].activations).toBeUndefined()
      expect(res.protein?.accession).toBe(prot.accession)
      expect(res.annotations).toEqual(p.annotations)
    }
    const whole = store.proteins.features({ protein: p.proteinId, limit: 5, offset: 1 })
    expect(whole.range).toEqual({ start: 1, end: p.length })
    expect(whole.items.length).toBe(5)
    expect(() => store.proteins.features({ protein: 'NOPE' })).toThrow(/no protein/)
  })

  it('answers live latents the same way, and finds proteins by text', () => {
    const p = dense[5]
    const f32 = Float32Array.from(p.dense)
    const m = featureMajorOf(sparsify('live', f32, p.length, width))
    const live = store.proteins.unstoredSequenceFeatures(undefined, store.proteins.get(p.proteinId)!.sequence, m, {
      sortBy: 'max',
      limit: 1000
    })
    const stored = store.proteins.features({ protein: p.proteinId, sortBy: 'max', limit: 1000 })
    expect(live.protein).toBeNull()
    expect(live.items.map(h => h.feature)).toEqual(stored.items.map(h => h.feature))
    expect(store.proteins.list({ text: 'P00005' }).items.map(x => x.accession)).toEqual(['P00005'])
    expect(store.proteins.list({ text: 'musculus', limit: 3 })).toMatchObject({ total: 25, offset: 0 })
    expect(store.proteins.list({ limit: 3 }).items.length).toBe(3)
  })
})
