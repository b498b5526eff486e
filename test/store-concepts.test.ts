/**
 * Concept association variants (residue F1, InterPLM's per-domain recall and F1, false positives on annotated or
 * all proteins, concepts split by note with a minimum instance count), instance numbering, and label cards,
 * each against an independent computation from the definitions on a small annotated set in a real store.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { roundTripValue } from '../src/main/engine/store/latent-codec'
import type { StatisticsSettings } from '../src/main/engine/store/feature-statistics'
import { ConceptCounter, conceptLayout, conceptScoringOf } from '../src/main/engine/store/concepts'
import { classifyPattern } from '../src/main/engine/store/label-card'
import { ProteinStructures } from '../src/main/engine/store/protein-structures'
import { CLUSTER_PERMUTATIONS, clusteringTest } from '../src/main/engine/store/structure-clustering'
import { sparsify } from '../src/main/engine/sae/sparse-latents'
import { mulberry32 } from '../src/main/engine/random'
import type { ResidueAnnotation } from '../src/shared/store-types'
import { DEFAULT_CONCEPT_F1_FLOOR } from '../src/shared/concept-floor'
import { tempDir } from './helpers/tmp'
import { refInstances, refMetric, refNote, type RefConcept, type RefProtein } from './reference/concept-reference'

const WIDTH = 6
const tmp = tempDir('store-concepts')
afterAll(() => tmp.cleanup())

interface Synth {
  sequence: string
  annotations: ResidueAnnotation[]
  dense: Float32Array
}

/** A small annotated set: helices (some overlapping), domains and metals with notes, disulfides, unannotated proteins. */
function synthesize(n: number, seed: number): Synth[] {
  const rand = mulberry32(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
  const out: Synth[] = []
  for (let p = 0; p < n; p++) {
    const len = int(18, 45)
    let sequence = ''
    for (let i = 0; i < len; i++) sequence += 'ACDEFGHIKLMNPQRSTVWY'[int(0, 19)]
    const annotations: ResidueAnnotation[] = []
    if (p % 5 !== 4) {
      for (let k = int(1, 3); k > 0; k--) {
        const s = int(1, len - 3)
        annotations.push({ type: 'helix', start: s, end: Math.min(len, s + int(2, 9)), description: '' })
      }
      if (rand() < 0.7) {
        const s = int(1, len - 6)
        annotations.push({
          type: 'domain',
          start: s,
          end: s + 5,
          description: ['SH3', 'PDZ', 'PDZ', 'Kinase'][int(0, 3)]
        })
      }
      for (let k = int(0, 2); k > 0; k--) {
        const r = int(1, len)
        annotations.push({
          type: 'metal',
          start: r,
          end: r,
          description: rand() < 0.6 ? 'Zn(2+); catalytic' : rand() < 0.9 ? 'Mg(2+)' : 'Ca(2+)'
        })
      }
      if (rand() < 0.4)
        annotations.push({ type: 'disulfide_bond', start: int(1, 4), end: len - 1, pairwise: true, description: '' })
      if (rand() < 0.2)
        annotations.push({ type: 'helix', start: len + 3, end: len + 9, description: 'outside the sequence' })
    } else if (rand() < 0.5) {
      annotations.push({ type: 'chain', start: 1, end: len, description: 'not a concept' })
    }
    const dense = new Float32Array(len * WIDTH)
    const inType = (r: number, type: string, note?: string) =>
      annotations.some(
        a =>
          a.type === type &&
          (note === undefined || refNote(a) === note) &&
          (a.pairwise ? r + 1 === a.start || r + 1 === a.end : r + 1 >= a.start && r + 1 <= a.end)
      )
    for (let r = 0; r < len; r++) {
      if (inType(r, 'helix') && rand() < 0.5) dense[r * WIDTH] = 0.5 + 3 * rand()
      else if (rand() < 0.08) dense[r * WIDTH] = rand()
      if (inType(r, 'domain', 'PDZ') && rand() < 0.3) dense[r * WIDTH + 1] = 1 + rand()
      if (inType(r, 'metal', 'Zn(2+)')) dense[r * WIDTH + 2] = 2 + rand()
      else if (inType(r, 'metal') && rand() < 0.5) dense[r * WIDTH + 2] = 0.3 * rand() + 0.05
      if (rand() < 0.15) dense[r * WIDTH + 3] = 4 * rand() + 1e-3
      if (rand() < 0.05) dense[r * WIDTH + 4] = rand() + 1e-3
    }
    out.push({ sequence, annotations, dense })
  }
  return out
}

async function storeOf(
  name: string,
  synth: Synth[],
  stats: Partial<StatisticsSettings>,
  opts: { accessions?: string[]; structures?: ProteinStructures } = {}
) {
  const store = LatentStore.open(join(tmp.dir, name))
  const { ids } = store.addProteins(
    synth.map((s, i) => ({
      accession: opts.accessions?.[i] ?? `Q${i}`,
      name: '',
      organism: '',
      description: '',
      sequence: s.sequence,
      annotations: s.annotations
    }))
  )
  const run = store.ensureRun({ modelName: 'm', modelHash: 'mh', saeName: 's', saeHash: 'sh', layer: 1, dSae: WIDTH })
  store.putLatents(
    run.id,
    synth.map((s, i) => ({ proteinId: ids[i], latents: sparsify(String(ids[i]), s.dense, s.sequence.length, WIDTH) }))
  )
  await store.computeStatistics(run.id, stats, { structures: opts.structures })
  store.setRunStatus(run.id, 'complete')
  const proteins: RefProtein[] = synth.map(s => ({
    length: s.sequence.length,
    annotations: s.annotations,
    values: (f, r) => (s.dense[r * WIDTH + f] > 0 ? roundTripValue(s.dense[r * WIDTH + f]) : 0)
  }))
  const max = Array.from({ length: WIDTH }, (_, f) =>
    Math.max(0, ...proteins.flatMap(p => Array.from({ length: p.length }, (_, r) => p.values(f, r))))
  )
  return { store, runId: run.id, proteins, max }
}

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-12)

/** Every variant's figures for every (feature, concept, threshold) against the reference. */
function checkAgainstReference(
  store: LatentStore,
  runId: number,
  proteins: RefProtein[],
  max: number[],
  scope: 'annotated' | 'all',
  expectedConcepts: RefConcept[]
) {
  let checked = 0
  for (let f = 0; f < WIDTH; f++) {
    const d = store.features.detail(f, { runId })
    const listed = new Set(d.concepts.map(c => `${c.type}:${c.note ?? ''}`))
    for (const concept of expectedConcepts) {
      const at0 = refMetric(proteins, f, concept, 0, max[f], scope)
      expect(listed.has(`${concept.type}:${concept.note}`)).toBe(at0.tp > 0 && at0.positives > 0)
    }
    for (const c of d.concepts) {
      expect(expectedConcepts.some(e => e.type === c.type && e.note === c.note)).toBe(true)
      const concept = { type: c.type, note: c.note ?? '' }
      const refs = c.byThreshold.map(bt => refMetric(proteins, f, concept, bt.threshold, max[f], scope))
      c.byThreshold.forEach((bt, j) => {
        const r = refs[j]
        close(bt.precision, r.precision)
        close(bt.recall, r.recall)
        close(bt.f1, r.f1)
        close(bt.recallDomain!, r.recallDomain)
        close(bt.f1Domain!, r.f1Domain)
        checked++
      })
      expect(c.positives).toBe(refs[0].positives)
      // best by residue F1; InterPLM's best by per-domain F1, ties by F1
      let j = 0
      let k = 0
      refs.forEach((r, q) => {
        if (r.f1 > refs[j].f1) j = q
        if (r.f1Domain > refs[k].f1Domain || (r.f1Domain === refs[k].f1Domain && r.f1 > refs[k].f1)) k = q
      })
      close(c.f1, refs[j].f1)
      expect(c.threshold).toBe(c.byThreshold[j].threshold)
      expect(c.truePositives).toBe(refs[j].tp)
      expect(c.predicted).toBe(refs[j].predicted)
      expect(c.domain).toBeDefined()
      close(c.domain!.f1, refs[k].f1Domain)
      close(c.domain!.recall, refs[k].recallDomain)
      expect(c.domain!.threshold).toBe(c.byThreshold[k].threshold)
      if (!c.perResidue) {
        expect(c.domain!.instances).toBe(refs[k].instances)
        expect(c.domain!.foundInstances).toBe(refs[k].found)
      } else {
        expect(['metal', 'disulfide_bond']).toContain(c.type)
        close(c.domain!.recall, refs[k].recall)
      }
    }
    // the feature's best concept by each metric
    if (d.concepts.length > 0) {
      const byF1 = Math.max(...d.concepts.map(c => c.f1))
      const byDomain = Math.max(...d.concepts.map(c => c.domain!.f1))
      expect(d.summary.bestConcept!.f1).toBe(byF1)
      expect(d.summary.bestConceptDomain!.f1).toBe(byDomain)
    } else {
      expect(d.summary.bestConcept).toBeNull()
      expect(d.summary.bestConceptDomain).toBeNull()
    }
  }
  return checked
}

describe('concept association: every variant against an independent computation', () => {
  const synth = synthesize(40, 11)

  it('defaults: false positives on annotated proteins, whole types only', async () => {
    const { store, runId, proteins, max } = await storeOf('a.sqlite', synth, {})
    const concepts: RefConcept[] = ['helix', 'domain', 'metal', 'disulfide_bond'].map(type => ({ type, note: '' }))
    expect(checkAgainstReference(store, runId, proteins, max, 'annotated', concepts)).toBeGreaterThan(60)
    const d = store.features.detail(0, { runId })
    expect(d.conceptScoring).toEqual({ falsePositives: 'annotated', splitTypes: [], minInstances: 1 })
    expect(d.summary.bestConcept?.type).toBe('helix')
    // helices are long, the feature fires on half their residues: it finds more helices than helix residues
    const helix = d.concepts.find(c => c.type === 'helix')!
    expect(helix.domain!.recall).toBeGreaterThan(helix.recall)
    store.close()
  })

  it("InterPLM's way: false positives on every protein; metal and domain split by note, rare notes not scored", async () => {
    const scoring = {
      falsePositives: 'all' as const,
      splitTypes: ['metal' as const, 'domain' as const],
      minInstances: 4
    }
    const { store, runId, proteins, max } = await storeOf('b.sqlite', synth, { concepts: scoring })
    const candidates: RefConcept[] = [
      ...['helix', 'domain', 'metal', 'disulfide_bond'].map(type => ({ type, note: '' })),
      ...['SH3', 'PDZ', 'Kinase'].map(note => ({ type: 'domain', note })),
      ...['Zn(2+)', 'Mg(2+)', 'Ca(2+)'].map(note => ({ type: 'metal', note }))
    ]
    const scored = candidates.filter(c => refInstances(proteins, c).length >= scoring.minInstances)
    expect(scored.length).toBeLessThan(candidates.length) // the minimum drops something
    expect(scored.some(c => c.note === 'Zn(2+)')).toBe(true)
    expect(checkAgainstReference(store, runId, proteins, max, 'all', scored)).toBeGreaterThan(100)
    expect(store.features.detail(2, { runId }).summary.bestConcept).toMatchObject({
      type: 'metal',
      note: 'Zn(2+)',
      f1: 1
    })
    expect(store.features.detail(1, { runId }).summary.bestConceptDomain).toMatchObject({ type: 'domain', note: 'PDZ' })
    expect(store.features.detail(0, { runId }).conceptScoring).toEqual(scoring)
    // the run records the choice; ranking by either metric
    const byDomain = store.features.list({ runId, sort: { key: 'bestF1Domain', dir: 'desc' } }).items
    const f1s = byDomain.map(f => f.bestConceptDomain?.f1 ?? 0)
    expect([...f1s].sort((a, b) => b - a)).toEqual(f1s)
    expect(
      store.features.list({ runId, minF1Domain: 0.5 }).items.every(f => (f.bestConceptDomain?.f1 ?? 0) >= 0.5)
    ).toBe(true)
    expect(store.features.list({ runId, text: 'Zn(2+)' }).items.map(f => f.id)).toContain(2)
    store.close()
  })

  it('keeps concept rows of a store from before schema 6 (without the new metric) until recomputed', async () => {
    const path = join(tmp.dir, 'v2.sqlite')
    const old = LatentStore.open(path, { schemaVersion: 2 })
    const synthOld = synth.slice(0, 10)
    const { ids } = old.addProteins(
      synthOld.map((s, i) => ({
        accession: `Q${i}`,
        name: '',
        organism: '',
        description: '',
        sequence: s.sequence,
        annotations: s.annotations
      }))
    )
    const run = old.ensureRun({ modelName: 'm', modelHash: 'mh', saeName: 's', saeHash: 'sh', layer: 1, dSae: WIDTH })
    old.putLatents(
      run.id,
      synthOld.map((s, i) => ({
        proteinId: ids[i],
        latents: sparsify(String(ids[i]), s.dense, s.sequence.length, WIDTH)
      }))
    )
    old.close()
    const store = LatentStore.open(path)
    await store.computeStatistics(run.id)
    const fresh = store.features.detail(0, { runId: run.id })
    // rewrite the rows as schema 2 left them: no domain metric
    store.db.exec(
      'UPDATE feature_concepts SET domain_f1 = NULL, domain_threshold = NULL, domain_precision = NULL, domain_recall = NULL, found_instances = NULL, instances = NULL'
    )
    store.db.exec("UPDATE feature_stats SET best_domain_type = NULL, generated_label = ''")
    const stale = store.features.detail(0, { runId: run.id })
    expect(stale.concepts.map(c => [c.type, c.f1])).toEqual(fresh.concepts.map(c => [c.type, c.f1]))
    expect(stale.concepts.every(c => c.domain === undefined)).toBe(true)
    expect(stale.summary.bestConceptDomain).toBeNull()
    await store.computeStatistics(run.id)
    expect(store.features.detail(0, { runId: run.id })).toEqual(fresh)
    store.close()
  })

  it('rejects bad scoring settings with a clear error', () => {
    expect(() => conceptScoringOf({ falsePositives: 'some' as 'all' })).toThrow(/'annotated' proteins or on 'all'/)
    expect(() => conceptScoringOf({ splitTypes: ['chain'] })).toThrow(/not a concept type/)
    expect(() => conceptScoringOf({ minInstances: 0 })).toThrow(/whole number ≥ 1/)
  })
})

describe('instance numbering', () => {
  it('numbers instances per concept run-wide, in protein then annotation order (as InterPLM)', () => {
    const p1: ResidueAnnotation[] = [
      { type: 'helix', start: 2, end: 5, description: '' },
      { type: 'metal', start: 3, end: 3, description: 'Zn(2+); catalytic' },
      { type: 'helix', start: 8, end: 10, description: '' },
      { type: 'metal', start: 7, end: 7, description: 'Mg(2+) (By similarity).' },
      { type: 'chain', start: 1, end: 12, description: '' }
    ]
    const p2: ResidueAnnotation[] = [
      { type: 'helix', start: 1, end: 3, description: '' },
      { type: 'helix', start: 50, end: 60, description: 'outside: no instance' },
      { type: 'metal', start: 2, end: 2, description: 'Zn(2+)' },
      { type: 'helix', start: 3, end: 6, description: 'overlaps the first' },
      { type: 'disulfide_bond', start: 1, end: 6, pairwise: true, description: '' }
    ]
    const counter = new ConceptCounter(conceptScoringOf({ splitTypes: ['metal'] }))
    counter.add(12, p1)
    counter.add(8, p2)
    const cat = counter.catalogue()
    expect(cat.keys).toEqual([
      { type: 'helix', note: '' },
      { type: 'metal', note: '' },
      { type: 'metal', note: 'Mg(2+)' },
      { type: 'metal', note: 'Zn(2+)' },
      { type: 'disulfide_bond', note: '' }
    ])
    const counters = new Int32Array(cat.size)
    const l1 = conceptLayout(12, p1, cat, counters)!
    const l2 = conceptLayout(8, p2, cat, counters)!
    const named = (l: typeof l1) =>
      Array.from(
        l.instanceConcept,
        (c, i) => `${cat.keys[c].type}${cat.keys[c].note ? `:${cat.keys[c].note}` : ''}#${l.instanceId[i]}`
      )
    expect(named(l1)).toEqual(['helix#1', 'metal#1', 'metal:Zn(2+)#1', 'helix#2', 'metal#2', 'metal:Mg(2+)#1'])
    expect(named(l2)).toEqual(['helix#3', 'metal#3', 'metal:Zn(2+)#2', 'helix#4', 'disulfide_bond#1'])
    expect(Array.from(counters)).toEqual([4, 3, 1, 2, 1])
    // residue 3 of p2 (0-based 2) is in two helix instances but carries the concept once
    const r = 2
    expect(Array.from(l2.concepts.subarray(l2.conceptStart[r], l2.conceptStart[r + 1]))).toEqual([0])
    expect(
      Array.from(l2.instances.subarray(l2.instanceStart[r], l2.instanceStart[r + 1])).map(i => l2.instanceId[i])
    ).toEqual([3, 4])
    // the disulfide's two cysteines, not the residues between
    expect(
      [0, 1, 2, 3, 4, 5].filter(q =>
        Array.from(l2.concepts.subarray(l2.conceptStart[q], l2.conceptStart[q + 1])).includes(4)
      )
    ).toEqual([0, 5])
    // a minimum instance count drops rare concepts
    const strict = new ConceptCounter(conceptScoringOf({ splitTypes: ['metal'], minInstances: 2 }))
    strict.add(12, p1)
    strict.add(8, p2)
    expect(strict.catalogue().keys.map(k => `${k.type}:${k.note}`)).toEqual(['helix:', 'metal:', 'metal:Zn(2+)'])
  })
})

describe('label cards', () => {
  it('classifies activation patterns from a track', () => {
    expect(classifyPattern([], 30)).toBeNull()
    expect(
      classifyPattern(
        Array.from({ length: 10 }, (_, i) => i + 2),
        15
      )
    ).toBe('protein')
    expect(classifyPattern([0, 3, 7, 10, 14, 17, 21], 60)).toBe('periodic')
    expect(classifyPattern([0, 2, 4, 6, 8], 60)).toBe('periodic')
    expect(classifyPattern([2, 9, 30], 40)).toBe('residue')
    expect(classifyPattern([2, 3, 4, 5, 6, 20, 21, 22], 60)).toBe('motif')
    expect(
      classifyPattern(
        Array.from({ length: 20 }, (_, i) => i + 30),
        100
      )
    ).toBe('domain')
  })

  it('describes features from their top proteins: concepts above the floor, pattern, enrichment, position', async () => {
    const rand = mulberry32(5)
    const synth: Synth[] = []
    for (let p = 0; p < 12; p++) {
      const len = 60
      let sequence = ''
      for (let i = 0; i < len; i++) sequence += i % 9 === 4 ? 'C' : 'ADEFGHIKLMNPQRSTVWY'[Math.floor(rand() * 19)]
      const annotations: ResidueAnnotation[] = [{ type: 'helix', start: 20, end: 44, description: '' }]
      const dense = new Float32Array(len * WIDTH)
      for (let r = 0; r < len; r++) {
        if (sequence[r] === 'C') dense[r * WIDTH] = 1 + rand() // cysteines: single residues, enriched C
        if (r < 4) dense[r * WIDTH + 1] = 1 + rand() // N-terminal motif
        if (r >= 19 && r <= 43) dense[r * WIDTH + 2] = 1 + rand() // the whole helix: a domain, concept helix
      }
      synth.push({ sequence, annotations, dense })
    }
    const { store, runId } = await storeOf('cards.sqlite', synth, { topK: 12 })
    const c0 = store.features.detail(0, { runId }).labelCard!
    expect(c0.pattern).toBe('residue')
    const cShare = synth.reduce((a, s) => a + [...s.sequence].filter(x => x === 'C').length, 0) / (12 * 60)
    expect(c0.enriched[0].aa).toBe('C')
    close(c0.enriched[0].ratio, 1 / cShare)
    expect(c0.terminal).toBeNull()
    const c1 = store.features.detail(1, { runId }).labelCard!
    expect(c1.pattern).toBe('motif')
    expect(c1.terminal).toBe('N')
    expect(c1.text).toContain('N-terminal')
    const d2 = store.features.detail(2, { runId })
    expect(d2.labelCard!.pattern).toBe('domain')
    expect(d2.labelCard!.patternShare).toBe(1)
    expect(d2.labelCard!.concepts[0]).toMatchObject({ type: 'helix', note: '' })
    expect(
      d2.labelCard!.concepts.every(
        c => c.f1 >= DEFAULT_CONCEPT_F1_FLOOR || (c.f1Domain ?? 0) >= DEFAULT_CONCEPT_F1_FLOOR
      )
    ).toBe(true)
    expect(d2.labelCard!.text).toMatch(/^Helix \(F1 1\.00, domain F1 1\.00\) · whole domains/)
    // shown in the list, searchable, exported
    const listed = store.features.list({ runId }).items.find(f => f.id === 2)!
    expect(listed.generatedLabel).toBe(d2.labelCard!.text)
    expect(store.features.list({ runId, text: 'N-terminal' }).items.map(f => f.id)).toEqual([1])
    const json = JSON.parse(store.features.export({ format: 'json', runId, ids: [1] })) as {
      features: { generated_label: string }[]
    }
    expect(json.features[0].generated_label).toBe(c1.text)
    expect(
      store.features
        .export({ format: 'csv', runId, ids: [1] })
        .split('\n')[0]
        .endsWith(',generated_label')
    ).toBe(true)
    store.close()
  })
})

/**
 * 3D clustering of firing residues, on the real ubiquitin structure (../shared/data/structures/1ubq.pdb), against
 * an independent computation: CA coordinates read from the ATOM records with a regular expression, the observed
 * mean pairwise distance computed directly, the expected one as the mean over all pairs of the chain (what a random
 * subset's mean pairwise distance averages to), and the p-value by an independent Monte Carlo.
 */
describe('label cards: 3D clustering on a real structure', () => {
  const UBQ_FILE = join(__dirname, '..', '..', 'shared', 'data', 'structures', '1ubq.pdb')
  const UBIQUITIN = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG'
  const HBA =
    'VLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR'
  const text = readFileSync(UBQ_FILE, 'utf8')
  // independent reading: residue number → CA (1UBQ numbers residues 1..76, as the sequence)
  const ca = new Map<number, number[]>()
  for (const m of text.matchAll(/^ATOM {2}.{6} CA {2}\w{3} A *(\d+) {4}(.{8})(.{8})(.{8})/gm))
    ca.set(Number(m[1]), [Number(m[2]), Number(m[3]), Number(m[4])])
  const dist = (a: number, b: number) => Math.hypot(...ca.get(a)!.map((x, k) => x - ca.get(b)![k]))
  const meanPairs = (set: number[]) => {
    let s = 0
    let n = 0
    for (let i = 0; i < set.length; i++)
      for (let j = i + 1; j < set.length; j++) {
        s += dist(set[i], set[j])
        n++
      }
    return s / n
  }
  const all = [...ca.keys()]
  const populationMean = meanPairs(all)
  const independentP = (set: number[]) => {
    const rand = mulberry32(12345)
    const obs = meanPairs(set)
    let hits = 0
    let sum = 0
    const K = 2000
    for (let k = 0; k < K; k++) {
      const pool = [...all]
      const pick: number[] = []
      for (let i = 0; i < set.length; i++) pick.push(pool.splice(Math.floor(rand() * pool.length), 1)[0])
      const d = meanPairs(pick)
      sum += d
      if (d <= obs) hits++
    }
    // the Monte Carlo mean of random sets agrees with the all-pairs mean the card uses as the expectation
    expect(Math.abs(sum / K - populationMean) / populationMean).toBeLessThan(0.02)
    return hits / K
  }
  // a compact patch: the 8 residues whose CA lies nearest residue 30's; residues spread along the chain
  const patch = [...all].sort((a, b) => dist(30, a) - dist(30, b)).slice(0, 8)
  const spread = [1, 13, 25, 37, 49, 61, 73]
  const structures = () => new ProteinStructures([{ name: '1UBQ', proteinIds: ['P62988'], text: () => text }])

  it('reads the structure as independent: 76 CA atoms; the chain aligned to ubiquitin position by position', () => {
    expect(ca.size).toBe(76)
    const track = structures().trackOf('p62988', UBIQUITIN)!
    expect(track.label).toBe('1UBQ:A')
    for (const r of [1, 30, 76]) expect(Array.from(track.ca.subarray(3 * (r - 1), 3 * r))).toEqual(ca.get(r))
    // a structure named for a protein it does not show is not used (identity below the painting floor)
    const other = new ProteinStructures([{ name: '1UBQ', proteinIds: ['Q1'], text: () => text }])
    expect(other.trackOf('Q1', 'W'.repeat(76))).toBeNull()
  })

  it('plm-sae index --structures: a folder of files, each matched by its UniProt cross-references', () => {
    const folder = ProteinStructures.fromFolder(join(UBQ_FILE, '..'))
    expect(folder.size).toBe(5)
    expect(folder.trackOf('P62988', UBIQUITIN)!.label).toBe('1UBQ:A')
    expect(folder.trackOf('P69905', 'M' + HBA)).toBeNull() // 2HHB (this copy) has no DBREF: it names no protein
    expect(() => ProteinStructures.fromFolder(join(tmp.dir, 'nope'))).toThrow(/does not exist/)
  })

  it('a compact patch clusters; residues spread along the chain do not (statistic, expectation and p-value)', () => {
    const track = structures().trackOf('P62988', UBIQUITIN)!
    const onPatch = clusteringTest([{ track, firing: patch.map(r => r - 1) }], 1)!
    expect(Math.abs(onPatch.meanDistance - meanPairs(patch))).toBeLessThan(1e-9)
    expect(Math.abs(onPatch.expectedDistance - populationMean)).toBeLessThan(1e-9)
    expect(independentP(patch)).toBe(0)
    expect(onPatch.p).toBe(1 / (1 + CLUSTER_PERMUTATIONS))
    expect(onPatch.clusters).toBe(true)
    expect(onPatch).toMatchObject({ structures: 1, chains: ['1UBQ:A'], residues: 8 })
    const onSpread = clusteringTest([{ track, firing: spread.map(r => r - 1) }], 1)!
    expect(Math.abs(onSpread.meanDistance - meanPairs(spread))).toBeLessThan(1e-9)
    expect(Math.abs(onSpread.expectedDistance - populationMean)).toBeLessThan(1e-9)
    const p = independentP(spread)
    expect(p).toBeGreaterThan(0.05)
    // the sequential stop (20 hits) estimates p with a standard deviation of about p·√((1 − p) / 20) ≈ 0.07 here
    expect(onSpread.permutations).toBeLessThan(CLUSTER_PERMUTATIONS)
    expect(Math.abs(onSpread.p - p)).toBeLessThan(0.2)
    expect(onSpread.clusters).toBe(false)
    // fewer than 3 firing residues on the chain: no test
    expect(clusteringTest([{ track, firing: [0, 1] }], 1)).toBeNull()
  })

  it('the card generated with the project structures says whether firing residues cluster in 3D', async () => {
    const rand = mulberry32(9)
    const synth: Synth[] = [UBIQUITIN, 'MKTAYIAKQRQISFVKSHFSRQLEERLGLIEVQ', 'MSDNGPQNQRNAPRITFGGPSDSTGSNQNGERS'].map(
      (sequence, p) => {
        const dense = new Float32Array(sequence.length * WIDTH)
        for (let r = 0; r < sequence.length; r++) {
          if (p === 0 && patch.includes(r + 1)) dense[r * WIDTH] = 1 + rand()
          if (p === 0 && spread.includes(r + 1)) dense[r * WIDTH + 1] = 1 + rand()
          if (p > 0 && r % 4 === 0) dense[r * WIDTH] = 0.5 * rand() + 1e-3
        }
        return { sequence, annotations: [], dense }
      }
    )
    const { store, runId } = await storeOf(
      'cards-3d.sqlite',
      synth,
      { topK: 5 },
      {
        accessions: ['P62988', 'X1', 'X2'],
        structures: structures()
      }
    )
    const c0 = store.features.detail(0, { runId }).labelCard!
    expect(c0.structure).toMatchObject({ structures: 1, chains: ['1UBQ:A'], clusters: true })
    expect(Math.abs(c0.structure!.meanDistance - meanPairs(patch))).toBeLessThan(1e-4)
    expect(c0.text).toContain(
      `clusters in 3D (mean CA distance ${meanPairs(patch).toFixed(1)} Å vs ${c0.structure!.expectedDistance.toFixed(1)} Å expected; 1 structure)`
    )
    const c1 = store.features.detail(1, { runId }).labelCard!
    expect(c1.structure!.clusters).toBe(false)
    expect(c1.text).toContain('no 3D clustering (mean CA distance')
    expect(store.features.list({ runId, text: 'clusters in 3D' }).items.map(f => f.id)).toEqual([0])
    // no structures given: no 3D part
    const plain = await storeOf('cards-3d-plain.sqlite', synth, { topK: 5 }, { accessions: ['P62988', 'X1', 'X2'] })
    expect(plain.store.features.detail(0, { runId: plain.runId }).labelCard!.structure).toBeUndefined()
    plain.store.close()
    store.close()
  })
})
