/**
 * Statistics and controls of steering experiments against independent computations written from the
 * definitions: Wilson intervals (published values and the quadratic's roots), permutation p-values (known
 * cases, and brute force over every permutation), the percentile bootstrap (a reference with another
 * generator, and the normal approximation), sequence outcomes, and the frequency-matched random controls.
 */
import { describe, expect, it } from 'vitest'
import {
  bootstrapMeanInterval,
  permutationTest,
  quantileSorted,
  wilsonInterval
} from '../src/main/engine/experiment/statistics'
import {
  expandConditions,
  matchedFeature,
  MATCH_POOL,
  type FeatureStatistics
} from '../src/main/engine/experiment/conditions'
import {
  compositionShift,
  composition,
  longestRun,
  lowComplexityFraction,
  meanPairwiseIdentities,
  topResidueShare
} from '../src/main/engine/experiment/outcomes'
import { Prng } from '../src/main/engine/steer/prng'
import { checkExperimentDesign, type ExperimentDesign } from '../src/shared/experiment-types'

/** Roots of (p̂ − p)² = z² p (1 − p) / n in p: the Wilson interval by its definition. */
function wilsonByQuadratic(k: number, n: number, z = 1.959963984540054): [number, number] {
  const ph = k / n
  const a = 1 + (z * z) / n
  const b = -(2 * ph + (z * z) / n)
  const c = ph * ph
  const d = Math.sqrt(b * b - 4 * a * c)
  return [(-b - d) / (2 * a), (-b + d) / (2 * a)]
}

/** Every ordering of the pooled values (n! of them), the first n being "x": the p-value by brute force. */
function bruteForceP(x: number[], y: number[]): number {
  const all = [...x, ...y]
  const obs = Math.abs(x.reduce((a, b) => a + b, 0) / x.length - y.reduce((a, b) => a + b, 0) / y.length)
  let hit = 0
  let count = 0
  const used = new Array<boolean>(all.length).fill(false)
  const pick: number[] = []
  const rec = (): void => {
    if (pick.length === all.length) {
      const a = pick.slice(0, x.length)
      const b = pick.slice(x.length)
      const s = Math.abs(a.reduce((p, q) => p + q, 0) / a.length - b.reduce((p, q) => p + q, 0) / b.length)
      if (s >= obs - 1e-12) hit++
      count++
      return
    }
    for (let i = 0; i < all.length; i++) {
      if (used[i]) continue
      used[i] = true
      pick.push(all[i])
      rec()
      pick.pop()
      used[i] = false
    }
  }
  rec()
  return hit / count
}

describe('experiment statistics', () => {
  it('Wilson intervals match published values and the quadratic definition', () => {
    // statsmodels proportion_confint(k, n, method="wilson")
    const w = wilsonInterval(1, 10)
    expect(w.lo).toBeCloseTo(0.017875, 5)
    expect(w.hi).toBeCloseTo(0.40415, 5)
    const h = wilsonInterval(5, 10)
    expect(h.lo).toBeCloseTo(0.236593, 5)
    expect(h.hi).toBeCloseTo(0.763407, 5)
    expect(wilsonInterval(0, 10).lo).toBe(0)
    expect(wilsonInterval(0, 10).hi).toBeCloseTo(0.277533, 5)
    for (const [k, n] of [
      [3, 7],
      [17, 40],
      [40, 40],
      [1, 1000]
    ]) {
      const [lo, hi] = wilsonByQuadratic(k, n)
      expect(wilsonInterval(k, n).lo).toBeCloseTo(Math.max(0, lo), 10)
      expect(wilsonInterval(k, n).hi).toBeCloseTo(Math.min(1, hi), 10)
    }
  })

  it('permutation p-values: known cases exactly, brute force, and the Monte-Carlo estimate', () => {
    // {1,2,3} vs {4,5,6}: of the 20 splits only the observed one and its mirror reach |diff| = 3
    const t = permutationTest([1, 2, 3], [4, 5, 6], { permutations: 1000, seed: 1 })
    expect(t.exact).toBe(true)
    expect(t.diff).toBe(-3)
    expect(t.p).toBeCloseTo(0.1, 12)
    // identical groups: every split is at least as extreme
    expect(permutationTest([2, 2, 2], [2, 2], { permutations: 100, seed: 1 }).p).toBe(1)
    const x = [0.3, 1.2, 2.5, 0.9]
    const y = [1.1, 3.4, 2.8, 4.0]
    expect(permutationTest(x, y, { permutations: 100, seed: 1 }).p).toBeCloseTo(bruteForceP(x, y), 12)
    // Monte Carlo (forced by exactLimit 0) agrees with the exact p within 4 standard errors
    const rng = new Prng(5, 0)
    const a = Array.from({ length: 9 }, () => rng.next())
    const b = Array.from({ length: 9 }, () => rng.next() + 0.3)
    const exact = permutationTest(a, b, { permutations: 0, seed: 1 })
    expect(exact.exact).toBe(true)
    const mc = permutationTest(a, b, { permutations: 20000, seed: 3, exactLimit: 0 })
    expect(mc.exact).toBe(false)
    const se = Math.sqrt((exact.p * (1 - exact.p)) / 20000)
    expect(Math.abs(mc.p - exact.p)).toBeLessThan(4 * se + 1e-4)
    expect(mc.p).toBeGreaterThan(0)
  })

  it('percentile bootstrap: a constant, the normal approximation, and a reference resampler', () => {
    expect(bootstrapMeanInterval([2, 2, 2, 2], { resamples: 500, seed: 1 })).toEqual({ lo: 2, hi: 2 })
    const rng = new Prng(9, 0)
    const x = Array.from({ length: 400 }, () => rng.next() * 10)
    const m = x.reduce((p, q) => p + q, 0) / x.length
    const sd = Math.sqrt(x.reduce((p, q) => p + (q - m) ** 2, 0) / (x.length - 1))
    const ci = bootstrapMeanInterval(x, { resamples: 4000, seed: 2 })
    const half = (1.96 * sd) / Math.sqrt(x.length)
    expect(ci.lo).toBeCloseTo(m - half, 1)
    expect(ci.hi).toBeCloseTo(m + half, 1)
    // a reference percentile bootstrap with another generator (LCG), on a skewed small sample
    const small = [0.1, 0.2, 0.2, 0.5, 0.9, 1.4, 3.0, 7.5]
    let s = 12345
    const lcg = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32
    const means: number[] = []
    for (let b = 0; b < 20000; b++) {
      let t = 0
      for (let i = 0; i < small.length; i++) t += small[Math.floor(lcg() * small.length)]
      means.push(t / small.length)
    }
    means.sort((p, q) => p - q)
    const ours = bootstrapMeanInterval(small, { resamples: 20000, seed: 4 })
    expect(Math.abs(ours.lo - quantileSorted(means, 0.025))).toBeLessThan(0.06)
    expect(Math.abs(ours.hi - quantileSorted(means, 0.975))).toBeLessThan(0.15)
    // same seed, same interval
    expect(bootstrapMeanInterval(small, { resamples: 500, seed: 4 })).toEqual(
      bootstrapMeanInterval(small, { resamples: 500, seed: 4 })
    )
  })

  it('sequence outcomes from their definitions', () => {
    expect(topResidueShare('AAAB')).toBe(0.75)
    expect(longestRun('ABBBCCAAAA')).toBe(4)
    expect(longestRun('A')).toBe(1)
    // a poly-Q stretch of 12 has entropy 0 → covered; a window of 12 distinct residues has log2(12) = 3.58 bits → not
    expect(lowComplexityFraction('QQQQQQQQQQQQ')).toBe(1)
    // window i of 'Q'×12 + 12 distinct: 12 − i Q's and i singletons; covered up to the last window under 2.2 bits
    const H = (i: number): number =>
      -(((12 - i) / 12) * Math.log2((12 - i) / 12 || 1) + i * (1 / 12) * Math.log2(1 / 12))
    let last = -1
    for (let i = 0; i <= 12; i++) if (H(i) < 2.2) last = i
    expect(lowComplexityFraction('QQQQQQQQQQQQ' + 'ACDEFGHIKLMN')).toBeCloseTo((last + 12) / 24, 12)
    expect(lowComplexityFraction('ACDEFGHIKLMNPQRSTVWY')).toBe(0)
    expect(compositionShift(composition('AAAA'), composition('CCCC'))).toBe(1)
    expect(compositionShift(composition('ACAC'), composition('CACA'))).toBe(0)
    expect(compositionShift(composition('AACC'), composition('AAAA'))).toBeCloseTo(0.5, 12)
    const ids = meanPairwiseIdentities([
      { group: 's', sequence: 'AAAA' },
      { group: 's', sequence: 'AAAC' },
      { group: 's', sequence: 'CCCC' },
      { group: 't', sequence: 'GG' }
    ])
    expect(ids[0]).toBeCloseTo((0.75 + 0) / 2, 12)
    expect(ids[1]).toBeCloseTo((0.75 + 0.25) / 2, 12)
    expect(ids[3]).toBeUndefined()
  })

  it('random controls are matched by firing frequency, exclude the clamped features, and are reproducible', () => {
    const d = 500
    const rng = new Prng(3, 0)
    const freq = Float64Array.from({ length: d }, (_, f) => (f % 10 === 0 ? 0 : 10 ** (-4 * rng.next())))
    const stats: FeatureStatistics = { freq, max: new Float64Array(d).fill(2), source: 'synthetic' }
    const design: ExperimentDesign = {
      name: 't',
      start: { kind: 'denovo', length: 20 },
      generation: { mode: 'denovo', temperature: 1, rounds: 4, maskFraction: 0.15 },
      n: 4,
      seed: 7,
      clampSets: [
        {
          clamps: [
            { feature: 3, mode: 'absolute', value: 2 },
            { feature: 11, mode: 'multiple-of-max', value: 1 }
          ]
        },
        { clamps: [{ feature: 77, mode: 'absolute', value: 1, range: { start: 2, end: 9 } }] }
      ],
      doses: [0.5, 1, 4],
      controls: { noClamp: true, ablation: true, randomDraws: 5 },
      pll: 'off',
      success: { kind: 'activation' }
    }
    checkExperimentDesign(design)
    const conds = expandConditions(design, stats)
    expect(conds.map(c => c.key)).toEqual([
      'control/none',
      'set1/dose1',
      'set1/dose2',
      'set1/dose3',
      'set1/ablation',
      'set1/random1',
      'set1/random2',
      'set1/random3',
      'set1/random4',
      'set1/random5',
      'set2/dose1',
      'set2/dose2',
      'set2/dose3',
      'set2/ablation',
      'set2/random1',
      'set2/random2',
      'set2/random3',
      'set2/random4',
      'set2/random5'
    ])
    expect(conds[3].clamps.map(c => c.value)).toEqual([8, 4])
    expect(conds[4].clamps).toEqual([
      { feature: 3, mode: 'absolute', value: 0 },
      { feature: 11, mode: 'absolute', value: 0 }
    ])
    expect(conds[13].clamps[0].range).toEqual({ start: 2, end: 9 })
    // reference pool: the MATCH_POOL features nearest in log frequency, computed here by ranking every live feature
    const pool = (target: number, taken: Set<number>): Set<number> => {
      const live = [...Array(d).keys()].filter(f => freq[f] > 0 && !taken.has(f))
      const dist = (f: number): number => Math.abs(Math.log(freq[f]) - Math.log(freq[target]))
      live.sort((a, b) => dist(a) - dist(b) || a - b)
      return new Set(live.slice(0, MATCH_POOL))
    }
    for (const [s, set] of design.clampSets.entries()) {
      const taken = new Set(set.clamps.map(c => c.feature))
      const randoms = conds.filter(c => c.kind === 'random' && c.setIndex === s)
      for (const r of randoms) {
        r.clamps.forEach((c, k) => {
          const target = set.clamps[k].feature
          expect(pool(target, taken).has(c.feature)).toBe(true)
          expect(freq[c.feature]).toBeGreaterThan(0)
          expect(c.value).toBe(set.clamps[k].value * 4)
          expect(c.mode).toBe(set.clamps[k].mode)
          taken.add(c.feature)
        })
      }
      const drawn = randoms.flatMap(r => r.clamps.map(c => c.feature))
      expect(new Set(drawn).size).toBe(drawn.length)
    }
    expect(expandConditions(design, stats)).toEqual(conds)
    expect(() => matchedFeature(stats, 10, new Set(), new Prng(1))).toThrow(/never fires/)
    expect(() => expandConditions(design, undefined)).toThrow(/firing frequencies/)
  })

  it('explains bad designs', () => {
    expect(() => checkExperimentDesign({})).toThrow(/design.name/)
    expect(() =>
      checkExperimentDesign({
        name: 'x',
        start: { kind: 'denovo', length: 10 },
        generation: { mode: 'resample', temperature: 1, rounds: 1, maskFraction: 0.1 }
      })
    ).toThrow(/de novo generation goes with/)
  })
})
