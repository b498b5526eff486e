/** The features that fire on one protein over a residue range, from its feature-major latents. */
import type { FeatureHitSortKey, ResidueRange } from '../../../shared/store-types'
import type { FeatureMajorLatents } from './latent-codec'

export interface RangeHit {
  feature: number
  max: number
  /** Mean over the range, zeros included. */
  mean: number
  /** 1-based residue of the max (the first one on ties). */
  argmax: number
  firing: number
}

/** Clamps a 1-based inclusive range to [1, length]; the whole protein when none is given. */
export function clampRange(length: number, range: ResidueRange | undefined): ResidueRange {
  if (!range) return { start: 1, end: length }
  const start = Math.max(1, Math.min(length, Math.floor(range.start)))
  const end = Math.max(start, Math.min(length, Math.floor(range.end)))
  return { start, end }
}

/**
 * The features with a nonzero value in the range, sorted by max or mean (descending, then feature id), and
 * paged: only the page is materialised and fully sorted, so a protein with thousands of firing features
 * answers quickly. `total` counts every firing feature.
 */
export function featuresInRange(
  m: FeatureMajorLatents,
  range: ResidueRange,
  sortBy: FeatureHitSortKey,
  offset = 0,
  limit = Infinity
): { total: number; hits: RangeHit[] } {
  const lo = range.start - 1
  const hi = range.end - 1
  const width = hi - lo + 1
  const nF = m.featureIds.length
  const maxA = new Float32Array(nF)
  const sumA = new Float64Array(nF)
  const argA = new Int32Array(nF)
  const firA = new Int32Array(nF)
  const idx = new Uint32Array(nF)
  let total = 0
  for (let i = 0; i < nF; i++) {
    let max = 0
    let argmax = -1
    let sum = 0
    let firing = 0
    for (let e = m.start[i]; e < m.start[i + 1]; e++) {
      const r = m.residues[e]
      if (r < lo) continue
      if (r > hi) break
      const v = m.values[e]
      sum += v
      firing++
      if (v > max) {
        max = v
        argmax = r
      }
    }
    if (firing === 0) continue
    maxA[i] = max
    sumA[i] = sum
    argA[i] = argmax
    firA[i] = firing
    idx[total++] = i
  }
  const key = sortBy === 'mean' ? sumA : maxA
  const want = Math.min(total, offset + limit)
  let chosen = idx.subarray(0, total)
  if (want < total) {
    // the want-th largest key: everything at or above it may be on the page
    const keys = new Float64Array(total)
    for (let j = 0; j < total; j++) keys[j] = key[idx[j]]
    keys.sort()
    const kth = keys[total - want]
    let n = 0
    const sel = new Uint32Array(total)
    for (let j = 0; j < total; j++) if (key[idx[j]] >= kth) sel[n++] = idx[j]
    chosen = sel.subarray(0, n)
  }
  const order = Array.from(chosen).sort((a, b) => key[b] - key[a] || m.featureIds[a] - m.featureIds[b])
  const hits = order
    .slice(offset, offset + limit)
    .map(i => ({ feature: m.featureIds[i], max: maxA[i], mean: sumA[i] / width, argmax: argA[i] + 1, firing: firA[i] }))
  return { total, hits }
}
