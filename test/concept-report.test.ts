/**
 * Concept reports (engine/jobs/concept-report.ts) on a real store, with a latent source that replays known
 * latents: predicted tracks, predicted against known, and family features, each against an independent
 * computation from the definitions (predictors read from the feature detail, annotations read directly).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conceptReport, reportTsv, type ReportSequence } from '../src/main/engine/jobs/concept-report'
import type { LatentSource } from '../src/main/engine/sae/latent-source'
import { sparsify } from '../src/main/engine/sae/sparse-latents'
import type { LatentStore } from '../src/main/engine/store/latent-store'
import { DEFAULT_CONCEPT_F1_FLOOR } from '../src/shared/concept-floor'
import type { ResidueAnnotation } from '../src/shared/store-types'
import { syntheticStore } from './helpers/store-fixture'
import type { DenseProtein } from './reference/store-reference'
import { tempDir } from './helpers/tmp'

const tmp = tempDir('concept-report')
let store: LatentStore
let runId: number
let dense: DenseProtein[]
let width: number

beforeAll(async () => {
  ;({ store, runId, dense, width } = await syntheticStore(tmp.dir, { proteins: 60, width: 16 }))
})
afterAll(() => {
  store.close()
  tmp.cleanup()
})

/** A latent source that returns the given dense latents for the i-th input (id = String(i)). */
function replay(latents: Float64Array[], lengths: number[]): LatentSource {
  return {
    dSae: width,
    layer: 4,
    async *extract(inputs) {
      for await (const s of inputs) {
        const i = Number(s.id)
        yield sparsify(s.id, Float32Array.from(latents[i]), lengths[i], width)
      }
    },
    close: async () => {}
  }
}

const covers = (a: ResidueAnnotation, r1: number) =>
  a.pairwise ? r1 === a.start || r1 === a.end : r1 >= a.start && r1 <= a.end

describe('concept report', () => {
  it('predicts tracks from features above the floor and compares them with known annotations', async () => {
    const picked = dense.filter(p => p.annotations.length > 0).slice(0, 3)
    const seqs: ReportSequence[] = picked.map(p => {
      const prot = store.proteins.get(p.proteinId)!
      return { id: prot.accession, description: '', sequence: prot.sequence, annotations: prot.annotations }
    })
    const report = await conceptReport(
      store,
      replay(
        picked.map(p => p.dense),
        picked.map(p => p.length)
      ),
      seqs,
      { runId }
    )
    expect(report.floor).toBe(DEFAULT_CONCEPT_F1_FLOOR)
    // predictors from the feature details: every concept with F1 ≥ floor
    const predictors: { feature: number; type: string; cut: number }[] = []
    for (let f = 0; f < width; f++) {
      const d = store.features.detail(f, { runId })
      for (const c of d.concepts)
        if (c.f1 >= DEFAULT_CONCEPT_F1_FLOOR)
          predictors.push({ feature: f, type: c.type, cut: c.threshold * d.summary.max })
    }
    expect(report.predictors).toBe(new Set(predictors.map(p => p.feature)).size)
    expect(predictors.some(p => p.type === 'helix')).toBe(true)
    picked.forEach((p, i) => {
      const s = report.sequences[i]
      const types = [...new Set(predictors.map(q => q.type))]
      for (const type of types) {
        const support = Array.from(
          { length: p.length },
          (_, r) => predictors.filter(q => q.type === type && p.dense[r * width + q.feature] > q.cut).length
        )
        const track = s.predicted.find(t => t.type === type)
        if (support.every(v => v === 0)) expect(track).toBeUndefined()
        else {
          expect(track!.support).toEqual(support)
          const fromSegments = new Array<boolean>(p.length).fill(false)
          for (const g of track!.segments) for (let r = g.start; r <= g.end; r++) fromSegments[r - 1] = true
          expect(fromSegments).toEqual(support.map(v => v > 0))
        }
      }
      // predicted against known
      expect(s.agreement).toBeDefined()
      for (const a of s.agreement!) {
        const pred = s.predicted.find(t => t.type === a.type && t.note === a.note)
        let both = 0
        let np = 0
        let nk = 0
        for (let r = 0; r < p.length; r++) {
          const isP = (pred?.support[r] ?? 0) > 0
          const isK = p.annotations.some(x => x.type === a.type && covers(x, r + 1))
          if (isP) np++
          if (isK) nk++
          if (isP && isK) both++
        }
        expect([a.both, a.predicted, a.known]).toEqual([both, np, nk])
        expect(a.f1).toBeCloseTo(np && nk && both ? (2 * (both / np) * (both / nk)) / (both / np + both / nk) : 0, 12)
      }
      const knownTypes = new Set(p.annotations.filter(x => x.type !== 'chain').map(x => x.type))
      for (const t of knownTypes) expect(s.agreement!.some(a => a.type === t && a.note === '')).toBe(true)
    })
    const tsv = reportTsv(report).trim().split('\n')
    expect(tsv[0].split('\t')).toEqual([
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
    ])
    expect(tsv.filter(l => l.startsWith('predicted\t')).length).toBe(
      report.sequences.reduce((a, s) => a + s.predicted.reduce((b, t) => b + t.segments.length, 0), 0)
    )
  })

  it('places the features firing in most family members on the first sequence', async () => {
    const a = dense[2]
    const b = dense[9]
    const seqA = store.proteins.get(a.proteinId)!.sequence
    const at = 10
    const insert = 'GGG'
    const seqA2 = seqA.slice(0, at) + insert + seqA.slice(at)
    const a2 = new Float64Array(seqA2.length * width)
    for (let r = 0; r < seqA2.length; r++) {
      const src = r < at ? r : r - insert.length
      if (r >= at && r < at + insert.length) continue
      for (let f = 0; f < width; f++) a2[r * width + f] = a.dense[src * width + f]
    }
    const seqs: ReportSequence[] = [
      { id: 'A', description: '', sequence: seqA, annotations: [] },
      { id: 'A+GGG', description: '', sequence: seqA2, annotations: [] },
      { id: 'B', description: '', sequence: store.proteins.get(b.proteinId)!.sequence, annotations: [] }
    ]
    const report = await conceptReport(
      store,
      replay([a.dense, a2, b.dense], [a.length, seqA2.length, b.length]),
      seqs,
      { runId, minFraction: 0.6 }
    )
    expect(report.sequences.every(s => s.agreement === undefined)).toBe(true)
    const fam = report.family!
    expect(fam.reference).toBe('A')
    const fires = (d: Float64Array, len: number, f: number) =>
      Array.from({ length: len }, (_, r) => d[r * width + f] > 0)
    const expected = [...Array(width).keys()]
      .map(f => ({
        f,
        n: [fires(a.dense, a.length, f), fires(b.dense, b.length, f)].reduce(
          (k, x, i) => k + (x.some(Boolean) ? (i === 0 ? 2 : 1) : 0),
          0
        )
      }))
      .filter(x => x.n >= 2)
    expect(fam.features.map(x => x.feature).sort((p, q) => p - q)).toEqual(expected.map(x => x.f))
    for (const x of fam.features) {
      const fa = fires(a.dense, a.length, x.feature)
      expect(x.members).toBe(expected.find(e => e.f === x.feature)!.n)
      expect(x.fraction).toBeCloseTo(x.members / 3, 12)
      const extra = x.columns.map((c, r) => c - 2 * (fa[r] ? 1 : 0))
      expect(extra.every(v => v === 0 || v === 1)).toBe(true)
      if (!fires(b.dense, b.length, x.feature).some(Boolean)) expect(extra.every(v => v === 0)).toBe(true)
      for (const g of x.segments)
        for (let r = g.start; r <= g.end; r++) expect(x.columns[r - 1]).toBeGreaterThanOrEqual(1.5)
    }
    // ranked by members
    const m = fam.features.map(x => x.members)
    expect([...m].sort((p, q) => q - p)).toEqual(m)
  })

  it('refuses a latent source of another SAE', async () => {
    const src = { ...replay([], []), dSae: width + 1 }
    await expect(
      conceptReport(store, src, [{ id: 'x', description: '', sequence: 'MKV', annotations: [] }], { runId })
    ).rejects.toThrow(/not the one of run/)
  })
})
