/**
 * The conditions of an experiment, expanded from its design, in a fixed order:
 *   1. the no-clamp control ("control/none"), when asked for;
 *   2. per clamp set s (1-based in keys): every dose ("set<s>/dose<k>": each clamp's value × the dose),
 *      then the ablation ("set<s>/ablation": the same features, absolute 0, same ranges), then the random
 *      controls ("set<s>/random<d>": every clamped feature replaced by a random feature of similar firing
 *      frequency, at the strongest dose).
 *
 * Frequency matching (`matchedFeature`): the candidates are the SAE's features that fire at all (frequency
 * > 0), are not clamped in the set and not already drawn for this set; they are ordered by |log10 f − log10
 * f_target| (ties by id) and one of the nearest `MATCH_POOL` is drawn uniformly. Draws use the seeded
 * generator of steering (stream 1,000,000 + set), so the same design and seed give the same controls.
 */
import type { ClampSpec } from '../../../shared/steering-types'
import type { ExperimentCondition, ExperimentDesign } from '../../../shared/experiment-types'
import { Prng } from '../steer/prng'

export const MATCH_POOL = 20

/** Firing frequency (fraction of residues) and max activation per feature, and where they came from. */
export interface FeatureStatistics {
  freq: Float64Array
  max: Float64Array
  source: string
  /** Concept F1 per feature, when known (screening). */
  f1?: Float64Array
}

/** The feature drawn for `target` (see the module comment); `taken` are excluded and the draw is added to it. */
export function matchedFeature(
  stats: FeatureStatistics,
  target: number,
  taken: Set<number>,
  rng: Prng,
  pool = MATCH_POOL
): number {
  const ft = stats.freq[target]
  if (!(ft > 0))
    throw new Error(
      `feature ${target} never fires in the reference (${stats.source}), so no random feature can be matched to its firing frequency; turn random controls off or use a feature that fires`
    )
  const lt = Math.log10(ft)
  const cand: { f: number; d: number }[] = []
  for (let f = 0; f < stats.freq.length; f++) {
    if (taken.has(f) || !(stats.freq[f] > 0)) continue
    cand.push({ f, d: Math.abs(Math.log10(stats.freq[f]) - lt) })
  }
  if (cand.length === 0)
    throw new Error(`no feature is left to match feature ${target} by firing frequency (${stats.source})`)
  cand.sort((a, b) => a.d - b.d || a.f - b.f)
  const pick = cand[rng.int(Math.min(pool, cand.length))].f
  taken.add(pick)
  return pick
}

function scaled(c: ClampSpec, dose: number): ClampSpec {
  return { ...c, value: c.value * dose }
}

export function setName(design: ExperimentDesign, s: number): string {
  return design.clampSets[s].name?.trim() || design.clampSets[s].clamps.map(c => `f${c.feature}`).join('+')
}

/** Every condition of the design (see the module comment). Random controls need `stats`. */
export function expandConditions(
  design: ExperimentDesign,
  stats: FeatureStatistics | undefined
): ExperimentCondition[] {
  const out: ExperimentCondition[] = []
  const add = (c: Omit<ExperimentCondition, 'index'>): void => {
    out.push({ index: out.length, ...c })
  }
  if (design.controls.noClamp) add({ key: 'control/none', kind: 'no-clamp', label: 'no clamp', clamps: [] })
  const strongest = Math.max(...design.doses)
  design.clampSets.forEach((set, s) => {
    const name = setName(design, s)
    design.doses.forEach((dose, k) => {
      add({
        key: `set${s + 1}/dose${k + 1}`,
        kind: 'dose',
        setIndex: s,
        dose,
        label: `${name} × ${dose}`,
        clamps: set.clamps.map(c => scaled(c, dose))
      })
    })
    if (design.controls.ablation) {
      add({
        key: `set${s + 1}/ablation`,
        kind: 'ablation',
        setIndex: s,
        dose: 0,
        label: `${name} ablated (0)`,
        clamps: set.clamps.map(c => ({
          feature: c.feature,
          mode: 'absolute',
          value: 0,
          ...(c.range ? { range: c.range } : {})
        }))
      })
    }
    if (design.controls.randomDraws > 0) {
      if (!stats)
        throw new Error(
          "random controls need the features' firing frequencies: index the project first (or give the CLI --db or --reference)"
        )
      const rng = new Prng(design.seed, 1_000_000 + s)
      const taken = new Set(set.clamps.map(c => c.feature))
      for (let d = 1; d <= design.controls.randomDraws; d++) {
        const clamps = set.clamps.map(c =>
          scaled({ ...c, feature: matchedFeature(stats, c.feature, taken, rng) }, strongest)
        )
        add({
          key: `set${s + 1}/random${d}`,
          kind: 'random',
          setIndex: s,
          dose: strongest,
          draw: d,
          label: `${name}: random ${clamps.map(c => `f${c.feature}`).join('+')} × ${strongest}`,
          clamps
        })
      }
    }
  })
  return out
}
