/**
 * Steering experiments end to end with real parts (a random-weight ESM2 in the real checkpoint format, a
 * preprint-format SAE, ONNX Runtime on the CPU, a real SQLite store): the stored rows, resume after a stop
 * equal to an uninterrupted run, the same seed giving the same sequences, outcomes checked against the
 * steering scores of today (identity, exact PLL, re-encoded activation) computed independently, and the
 * strided PLL equal to the exact one when the stride covers every residue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { join } from 'node:path'
import { tempDir } from './helpers/tmp'
import { randomProtein } from './helpers/compare'
import { steerSetup, type SteerSetup } from './steer-helpers'
import { LatentExtractor } from '../src/main/engine/sae/latent-extractor'
import { LatentStore } from '../src/main/engine/store/latent-store'
import { ExperimentStore } from '../src/main/engine/store/experiment-store'
import { SteeredModel } from '../src/main/engine/steer/steered-model'
import { runExperiment, type ExperimentContext } from '../src/main/engine/experiment/experiment-run'
import { measureFeatureStatistics } from '../src/main/engine/experiment/reference-statistics'
import { scoreSequences, pseudoLogLikelihood, stridedPseudoLogLikelihood } from '../src/main/engine/steer/scores'
import { resolveSteeringPlan } from '../src/main/engine/steer/steering-plan'
import { tokenize } from '../src/main/engine/esm/alphabet'
import type { FeatureStatistics } from '../src/main/engine/experiment/conditions'
import type { ExperimentDesign } from '../src/shared/experiment-types'

const tmp = tempDir('experiment-run')
let setup: SteerSetup
let steered: SteeredModel
let extractor: LatentExtractor
let stats: FeatureStatistics
const start = randomProtein(30, 11)

const design: ExperimentDesign = {
  name: 'tiny',
  start: {
    kind: 'sequences',
    sequences: [
      { id: 'P1', sequence: start },
      { id: 'P2', sequence: randomProtein(24, 12) }
    ]
  },
  generation: { mode: 'resample', temperature: 1, rounds: 2, maskFraction: 0.2 },
  n: 6,
  seed: 5,
  clampSets: [
    { name: 'A', clamps: [{ feature: 3, mode: 'multiple-of-max', value: 1 }] },
    { clamps: [{ feature: 9, mode: 'absolute', value: 2, range: { start: 2, end: 10 } }] }
  ],
  doses: [1, 4],
  controls: { noClamp: true, ablation: true, randomDraws: 2 },
  motif: 'x-x',
  pll: 'exact',
  success: { kind: 'activation' },
  bootstrap: 200,
  permutations: 200
}

function open(name: string): { store: LatentStore; ctx: ExperimentContext } {
  const store = LatentStore.open(join(tmp.dir, name))
  return { store, ctx: { steered, extractor, store: new ExperimentStore(store.db), stats } }
}

function rows(store: LatentStore): unknown[] {
  return store.db
    .prepare(
      'SELECT condition_idx, seq_index, start_id, sequence, outcomes, hex(feature_means) FROM experiment_sequences ORDER BY condition_idx, seq_index'
    )
    .all()
}

describe('steering experiments', () => {
  beforeAll(async () => {
    setup = await steerSetup(tmp.dir)
    steered = new SteeredModel(setup.model, setup.sae)
    extractor = await LatentExtractor.open(setup.model, setup.sae)
    stats = await measureFeatureStatistics(
      extractor,
      Array.from({ length: 12 }, (_, i) => ({ id: `r${i}`, sequence: randomProtein(40, 100 + i) })),
      'reference'
    )
  }, 120_000)
  afterAll(async () => {
    await setup?.model.close()
    tmp.cleanup()
  })

  it("stores every sequence with outcomes that match today's steering scores", async () => {
    const { store, ctx } = open('full.sqlite')
    const { id, summary, resumed } = await runExperiment(ctx, design, { chunk: 4 })
    expect(resumed).toBe(false)
    const es = new ExperimentStore(store.db)
    const conds = es.conditions(id)
    // control + per set (2 doses + ablation + 2 random)
    expect(conds).toHaveLength(1 + 2 * 5)
    const seqs = es.sequences(id)
    expect(seqs).toHaveLength(conds.length * 6)
    // sequence i starts from start i mod 2
    expect(seqs.filter(s => s.index % 2 === 1).every(s => s.startId === 'P2' && s.sequence.length === 24)).toBe(true)
    // today's scores, computed independently for the dose-4 condition of set 1 on start P1
    const cond = conds.find(c => c.key === 'set1/dose2')!
    const mine = seqs.filter(s => s.conditionIndex === cond.index && s.startId === 'P1')
    const startTokens = tokenize(start, 'P1')
    const plan = resolveSteeringPlan(
      { clamps: design.clampSets[0].clamps },
      { dSae: setup.sae.dSae, saeName: 'sae', residues: 30, maxActivation: f => stats.max[f] }
    )
    const tokens = mine.map(s => tokenize(s.sequence, 's'))
    const ref = await scoreSequences(
      steered,
      plan,
      tokens,
      mine.map(s => s.sequence),
      startTokens,
      { pll: true }
    )
    mine.forEach((s, k) => {
      expect(s.outcomes.identity).toBeCloseTo(ref[k].identity!, 12)
      expect(s.outcomes.pll).toBeCloseTo(ref[k].pll!, 4)
      expect(s.outcomes.targetActivation[0]).toBeCloseTo(ref[k].featureActivation[0].mean, 3)
      expect(s.outcomes.ownActivation).toBeCloseTo(ref[k].featureActivation[0].mean, 3)
      expect(s.outcomes.motifHits).toBe(15)
      expect(s.outcomes.meanPairwiseIdentity).toBeGreaterThanOrEqual(0)
    })
    // summary: every condition, p-values in (0, 1], the dose curve's conditions
    expect(summary.conditions).toHaveLength(conds.length)
    for (const c of summary.conditions.slice(1)) {
      const t = c.outcomes.targetActivation!
      expect(t.n).toBe(6)
      expect(t.p).toBeGreaterThan(0)
      expect(t.p).toBeLessThanOrEqual(1)
      expect(t.ci.lo).toBeLessThanOrEqual(t.mean)
      expect(t.ci.hi).toBeGreaterThanOrEqual(t.mean)
    }
    expect(summary.clampSets).toHaveLength(2)
    expect(summary.provenance.pllMethod).toBe('exact')
    expect(es.summary(id)?.id).toBe(id)
    expect(es.list()[0]).toMatchObject({ id, status: 'complete', done: conds.length * 6, sequences: conds.length * 6 })
    // running the same design again finds it complete and generates nothing
    const again = await runExperiment(ctx, design, { chunk: 4 })
    expect(again.resumed).toBe(true)
    expect(again.id).toBe(id)
    store.close()
  }, 300_000)

  it('a stopped experiment resumes to exactly the rows of an uninterrupted run; the same seed gives the same sequences', async () => {
    const full = open('full.sqlite')
    const expected = rows(full.store)
    full.store.close()
    const part = open('part.sqlite')
    await expect(runExperiment(part.ctx, design, { chunk: 4, stopAfterChunks: 5 })).rejects.toThrow(/stopped/)
    const partial = rows(part.store).length
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(expected.length)
    let generated = 0
    await runExperiment(part.ctx, design, { chunk: 4, onProgress: p => (generated = p.done) })
    expect(generated).toBe(expected.length)
    expect(rows(part.store)).toEqual(expected)
    part.store.close()
    // another seed, other sequences
    const other = open('other.sqlite')
    await runExperiment(
      other.ctx,
      {
        ...design,
        seed: 6,
        clampSets: design.clampSets.slice(0, 1),
        controls: { noClamp: true, ablation: false, randomDraws: 0 }
      },
      { chunk: 4 }
    )
    const otherSeqs = (rows(other.store) as { sequence: string }[]).map(r => r.sequence)
    expect(otherSeqs.slice(0, 6)).not.toEqual((expected as { sequence: string }[]).slice(0, 6).map(r => r.sequence))
    other.store.close()
  }, 300_000)

  it('screens candidate features: one clamp set each, ranked by their measured effect', async () => {
    const { store, ctx } = open('screen.sqlite')
    const screenDesign: ExperimentDesign = {
      ...design,
      clampSets: [],
      screen: { features: [3, 9, 20], clamp: { mode: 'absolute', value: 6 } },
      doses: [1],
      controls: { noClamp: true, ablation: false, randomDraws: 0 },
      pll: 'off',
      motif: undefined
    }
    const { summary } = await runExperiment(ctx, screenDesign)
    expect(summary.design.clampSets.map(s => s.clamps)).toEqual(
      [3, 9, 20].map(f => [{ feature: f, mode: 'absolute', value: 6 }])
    )
    expect(summary.design.screen).toBeUndefined()
    expect(summary.screening.map(s => s.features[0]).sort((a, b) => a - b)).toEqual([3, 9, 20])
    const effects = summary.screening.map(s => s.effect!)
    expect([...effects].sort((a, b) => b - a)).toEqual(effects)
    for (const s of summary.screening) {
      const cond = summary.conditions.find(c => c.condition.setIndex === s.setIndex && c.condition.kind === 'dose')!
      expect(s.effect).toBe(cond.outcomes.targetActivation!.diff)
      expect(s.effects.targetActivation?.p).toBe(cond.outcomes.targetActivation!.p)
    }
    store.close()
  }, 120_000)

  it('a design that fails its checks leaves nothing in the store', async () => {
    const { store, ctx } = open('bad.sqlite')
    const bad = {
      ...design,
      clampSets: [{ clamps: [{ feature: 3, mode: 'absolute' as const, value: 1, range: { start: 5, end: 29 } }] }]
    }
    await expect(runExperiment(ctx, bad)).rejects.toThrow(/start "P2": .*outside the sequence, which has residues 1-24/)
    expect(new ExperimentStore(store.db).list()).toEqual([])
    store.close()
  }, 120_000)

  it('the strided PLL is the exact PLL when every residue has its own group, and lower with fewer groups', async () => {
    const seqs = [tokenize(randomProtein(20, 1), 'a'), tokenize(randomProtein(13, 2), 'b')]
    const exact = await pseudoLogLikelihood(steered, seqs)
    const full = await stridedPseudoLogLikelihood(steered, seqs, 20)
    full.forEach((v, i) => expect(v).toBeCloseTo(exact[i], 4))
    const coarse = await stridedPseudoLogLikelihood(steered, seqs, 4)
    expect(coarse.every(v => Number.isFinite(v))).toBe(true)
  }, 120_000)
})
