/**
 * The statistics of a stored experiment (statistics.ts for the formulas):
 * - per sequence, the mean pairwise identity to the other sequences of its condition with the same start
 *   (diversity; written back into the stored outcomes);
 * - per condition and numeric outcome: n, mean, 95% percentile-bootstrap interval, and, against the no-clamp
 *   control, the difference of means with a two-sided permutation p-value. `targetActivation` of a condition
 *   is that of its own clamp set (the control's is also given per set in `targetBySet`);
 * - rates with Wilson intervals: "has the motif", and success under the design's criterion (activation:
 *   above the threshold, by default the 95th percentile of the control's target activation for the set);
 * - per condition, the features outside its clamps whose mean activation (over sequences) differs most
 *   from the control's;
 * - per clamp set: the strongest dose whose mean PLL per residue is no more than the likelihood margin below
 *   the control's (every dose when PLL is off), its success rate, its effect on the target activation at the
 *   strongest dose, and the random controls' effect on their own features (the specificity reference);
 * - screening: per clamp set its best concept F1 (when the project knows it) against that effect.
 */
import {
  DEFAULT_BOOTSTRAP,
  DEFAULT_LIKELIHOOD_MARGIN,
  DEFAULT_PERMUTATIONS,
  NUMERIC_OUTCOMES,
  type ClampSetSummary,
  type ConditionSummary,
  type ExperimentCondition,
  type ExperimentDesign,
  type ExperimentSummary,
  type NumericOutcome,
  type OutcomeSummary,
  type RateSummary,
  type SequenceOutcomes
} from '../../../shared/experiment-types'
import type { ExperimentStore, StoredSequence } from '../store/experiment-store'
import { setName, type FeatureStatistics } from './conditions'
import { meanPairwiseIdentities } from './outcomes'
import { bootstrapMeanInterval, mean, permutationTest, quantileSorted, wilsonInterval } from './statistics'

function outcomeValue(o: SequenceOutcomes, name: NumericOutcome, setIndex: number): number | undefined {
  const v = name === 'targetActivation' ? o.targetActivation[setIndex] : (o[name] as number | undefined)
  return v === undefined || !Number.isFinite(v) ? undefined : v
}

function values(seqs: StoredSequence[], name: NumericOutcome, setIndex: number): number[] {
  const out: number[] = []
  for (const s of seqs) {
    const v = outcomeValue(s.outcomes, name, setIndex)
    if (v !== undefined) out.push(v)
  }
  return out
}

function rate(successes: number, n: number): RateSummary {
  return { successes, n, rate: n ? successes / n : NaN, ci: wilsonInterval(successes, n) }
}

function meanVector(seqs: StoredSequence[]): Map<number, number> {
  const m = new Map<number, number>()
  for (const s of seqs) for (const [f, v] of s.featureMeans) m.set(f, (m.get(f) ?? 0) + v)
  for (const [f, v] of m) m.set(f, v / seqs.length)
  return m
}

export function summarizeExperiment(store: ExperimentStore, id: string, stats?: FeatureStatistics): ExperimentSummary {
  const design: ExperimentDesign = store.design(id)
  const conditions = store.conditions(id)
  const all = store.sequences(id, { withMeans: true })
  const byCondition = new Map<number, StoredSequence[]>(conditions.map(c => [c.index, []]))
  for (const s of all) byCondition.get(s.conditionIndex)?.push(s)

  // diversity, written back
  for (const seqs of byCondition.values()) {
    const ids = meanPairwiseIdentities(seqs.map(s => ({ group: s.startId, sequence: s.sequence })))
    seqs.forEach((s, k) => (s.outcomes.meanPairwiseIdentity = ids[k]))
  }
  store.updateOutcomes(id, all)

  const B = design.bootstrap ?? DEFAULT_BOOTSTRAP
  const P = design.permutations ?? DEFAULT_PERMUTATIONS
  const control = conditions.find(c => c.kind === 'no-clamp')
  const controlSeqs = control ? byCondition.get(control.index)! : []
  const controlMeans = control ? meanVector(controlSeqs) : undefined
  const seedOf = (c: ExperimentCondition, k: number): number => (design.seed * 1009 + c.index * 31 + k) >>> 0

  const summarize = (
    c: ExperimentCondition,
    seqs: StoredSequence[],
    name: NumericOutcome,
    setIndex: number,
    k: number
  ): OutcomeSummary | undefined => {
    const x = values(seqs, name, setIndex)
    if (x.length === 0) return undefined
    const out: OutcomeSummary = {
      n: x.length,
      mean: mean(x),
      ci: bootstrapMeanInterval(x, { resamples: B, seed: seedOf(c, k) })
    }
    if (control && c.index !== control.index) {
      const y = values(controlSeqs, name, setIndex)
      if (y.length > 0) {
        const t = permutationTest(x, y, { permutations: P, seed: seedOf(c, k + 100) })
        out.diff = t.diff
        out.p = t.p
      }
    }
    return out
  }

  // success thresholds per set
  const thresholds = design.clampSets.map((_, s) => {
    if (design.success.kind !== 'activation') return undefined
    if (design.success.threshold !== undefined) return design.success.threshold
    const y = values(controlSeqs, 'targetActivation', s).sort((a, b) => a - b)
    return y.length ? quantileSorted(y, 0.95) : undefined
  })
  const isSuccess = (o: SequenceOutcomes, setIndex: number): boolean | undefined => {
    if (design.success.kind === 'motif') return o.motifHits === undefined ? undefined : o.motifHits > 0
    const t = thresholds[setIndex]
    const v = o.targetActivation[setIndex]
    return t === undefined || v === undefined ? undefined : v > t
  }
  const successRate = (seqs: StoredSequence[], setIndex: number): RateSummary | undefined => {
    let k = 0
    let n = 0
    for (const s of seqs) {
      const ok = isSuccess(s.outcomes, setIndex)
      if (ok === undefined) continue
      n++
      if (ok) k++
    }
    return n ? rate(k, n) : undefined
  }

  const conditionSummaries: ConditionSummary[] = conditions.map(c => {
    const seqs = byCondition.get(c.index)!
    const setIndex = c.setIndex ?? 0
    const outcomes: ConditionSummary['outcomes'] = {}
    NUMERIC_OUTCOMES.forEach((name, k) => {
      const s = summarize(c, seqs, name, setIndex, k)
      if (s) outcomes[name] = s
    })
    const targetBySet = design.clampSets
      .map((_, s) => summarize(c, seqs, 'targetActivation', s, 50 + s))
      .filter((s): s is OutcomeSummary => s !== undefined)
    const summary: ConditionSummary = { condition: c, outcomes, targetBySet, changedFeatures: [] }
    if (design.motif) {
      const withHits = seqs.filter(s => (s.outcomes.motifHits ?? 0) > 0).length
      summary.motifRate = rate(withHits, seqs.length)
    }
    summary.success = successRate(seqs, setIndex)
    if (controlMeans && c.index !== control!.index && seqs.length > 0) {
      const exclude = new Set(c.clamps.map(x => x.feature))
      const m = meanVector(seqs)
      const deltas: { feature: number; delta: number }[] = []
      const keys = new Set([...m.keys(), ...controlMeans.keys()])
      for (const f of keys)
        if (!exclude.has(f)) deltas.push({ feature: f, delta: (m.get(f) ?? 0) - (controlMeans.get(f) ?? 0) })
      deltas.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.feature - b.feature)
      summary.changedFeatures = deltas.slice(0, 10)
    }
    return summary
  })

  const margin = design.likelihoodMargin ?? DEFAULT_LIKELIHOOD_MARGIN
  const controlPll = control ? conditionSummaries[control.index].outcomes.pllPerResidue?.mean : undefined
  const clampSets: ClampSetSummary[] = design.clampSets.map((_, s) => {
    const doses = conditionSummaries
      .filter(cs => cs.condition.kind === 'dose' && cs.condition.setIndex === s)
      .sort((a, b) => a.condition.dose! - b.condition.dose!)
    const within = doses.filter(cs => {
      const p = cs.outcomes.pllPerResidue?.mean
      return controlPll === undefined || p === undefined || p >= controlPll - margin
    })
    const best = within.at(-1)
    const strongest = doses.at(-1)
    const randoms = conditionSummaries.filter(cs => cs.condition.kind === 'random' && cs.condition.setIndex === s)
    const randomEffects = randoms
      .map(r => {
        const own = r.outcomes.ownActivation?.mean
        const base = controlSeqs
          .map(q => q.outcomes.randomActivation[String(r.condition.index)])
          .filter(v => v !== undefined && Number.isFinite(v))
        return own === undefined || base.length === 0 ? undefined : own - mean(base)
      })
      .filter((v): v is number => v !== undefined)
    return {
      setIndex: s,
      name: setName(design, s),
      threshold: thresholds[s],
      bestDose: best?.condition.dose,
      success: best?.success,
      effect: strongest?.outcomes.targetActivation?.diff,
      randomEffect: randomEffects.length ? mean(randomEffects) : undefined
    }
  })

  const screening = design.clampSets.map((set, s) => {
    const features = set.clamps.map(c => c.feature)
    const f1s = stats?.f1 ? features.map(f => stats.f1![f]).filter(v => Number.isFinite(v)) : []
    const strongest = conditionSummaries
      .filter(cs => cs.condition.kind === 'dose' && cs.condition.setIndex === s)
      .sort((a, b) => a.condition.dose! - b.condition.dose!)
      .at(-1)
    const effects: ExperimentSummary['screening'][number]['effects'] = {}
    for (const k of NUMERIC_OUTCOMES) {
      const o = strongest?.outcomes[k]
      if (o?.diff !== undefined && o.p !== undefined) effects[k] = { diff: o.diff, p: o.p }
    }
    return {
      setIndex: s,
      name: setName(design, s),
      features,
      f1: f1s.length ? Math.max(...f1s) : undefined,
      effect: strongest?.outcomes.targetActivation?.diff,
      p: strongest?.outcomes.targetActivation?.p,
      effects
    }
  })
  screening.sort((a, b) => (b.effect ?? -Infinity) - (a.effect ?? -Infinity) || a.setIndex - b.setIndex)

  return {
    id,
    design,
    provenance: store.provenance(id),
    conditions: conditionSummaries,
    clampSets,
    screening,
    computedAt: new Date().toISOString()
  }
}
