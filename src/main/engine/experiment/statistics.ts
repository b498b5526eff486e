/**
 * Statistics of steering experiments, from their definitions:
 * - `bootstrapMeanInterval`: percentile bootstrap of the mean (B resamples with replacement, seeded); the
 *   interval is [q_(α/2), q_(1−α/2)] of the resampled means (type-7 quantiles, as R's default);
 * - `wilsonInterval`: Wilson score interval of a rate k/n:
 *     (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n),  z = 1.959964 for 95%;
 * - `permutationTest`: two-sided test of a difference of means. The statistic is |mean(x) − mean(y)|; the
 *   p-value is the share of label permutations whose statistic is at least the observed one. All
 *   C(n+m, n) splits are enumerated when there are at most `exactLimit` of them (exact p); otherwise B random
 *   permutations are drawn (seeded) and p = (1 + #{≥}) / (1 + B) (never 0).
 */
import { Prng } from '../steer/prng'
import type { Interval } from '../../../shared/experiment-types'

export const Z95 = 1.959963984540054

export function mean(x: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i]
  return x.length ? s / x.length : NaN
}

/** Type-7 quantile of sorted values. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length
  if (n === 0) return NaN
  const h = (n - 1) * q
  const lo = Math.floor(h)
  const hi = Math.min(n - 1, lo + 1)
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo])
}

export function bootstrapMeanInterval(
  x: ArrayLike<number>,
  opts: { resamples: number; seed: number; level?: number }
): Interval {
  const n = x.length
  if (n === 0) return { lo: NaN, hi: NaN }
  const level = opts.level ?? 0.95
  const rng = new Prng(opts.seed, 7)
  const means = new Float64Array(opts.resamples)
  for (let b = 0; b < opts.resamples; b++) {
    let s = 0
    for (let i = 0; i < n; i++) s += x[rng.int(n)]
    means[b] = s / n
  }
  means.sort()
  return { lo: quantileSorted(means, (1 - level) / 2), hi: quantileSorted(means, 1 - (1 - level) / 2) }
}

export function wilsonInterval(successes: number, n: number, z = Z95): Interval {
  if (n === 0) return { lo: 0, hi: 1 }
  const p = successes / n
  const z2 = z * z
  const centre = p + z2 / (2 * n)
  const half = z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))
  const den = 1 + z2 / n
  return { lo: Math.max(0, (centre - half) / den), hi: Math.min(1, (centre + half) / den) }
}

function binomial(n: number, k: number): number {
  let r = 1
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i
  return r
}

/** Relative tolerance for "at least as extreme" (floating sums of the same values in another order). */
const TIE = 1e-12

export function permutationTest(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  opts: { permutations: number; seed: number; exactLimit?: number }
): { diff: number; p: number; exact: boolean } {
  const n = x.length
  const m = y.length
  const all = Float64Array.from([...Array.from(x), ...Array.from(y)])
  const total = all.reduce((a, b) => a + b, 0)
  const diff = mean(x) - mean(y)
  if (n === 0 || m === 0) return { diff: NaN, p: NaN, exact: true }
  const stat = (sumX: number): number => Math.abs(sumX / n - (total - sumX) / m)
  const observed = Math.abs(diff)
  const tol = TIE * Math.max(1, observed)
  const N = n + m
  if (binomial(N, n) <= (opts.exactLimit ?? 50_000)) {
    // enumerate every n-subset of the N values as the "x" group
    let extreme = 0
    let count = 0
    const idx = Array.from({ length: n }, (_, i) => i)
    for (;;) {
      let s = 0
      for (const i of idx) s += all[i]
      if (stat(s) >= observed - tol) extreme++
      count++
      let i = n - 1
      while (i >= 0 && idx[i] === N - n + i) i--
      if (i < 0) break
      idx[i]++
      for (let j = i + 1; j < n; j++) idx[j] = idx[j - 1] + 1
    }
    return { diff, p: extreme / count, exact: true }
  }
  const rng = new Prng(opts.seed, 11)
  const work = all.slice()
  let extreme = 0
  for (let b = 0; b < opts.permutations; b++) {
    // partial Fisher-Yates: the first n after shuffling are the "x" group
    let s = 0
    for (let i = 0; i < n; i++) {
      const j = i + rng.int(N - i)
      const t = work[i]
      work[i] = work[j]
      work[j] = t
      s += work[i]
    }
    if (stat(s) >= observed - tol) extreme++
  }
  return { diff, p: (1 + extreme) / (1 + opts.permutations), exact: false }
}
