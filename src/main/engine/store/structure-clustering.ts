/**
 * Whether a feature's firing residues cluster in 3D (for the label cards).
 *
 * Definition. For each top protein of the feature that has a structure chain aligned to it, S is the set of its
 * firing residues that have a CA atom on that chain, and D(S) the mean pairwise Euclidean distance of their CA
 * atoms. The statistic is the mean of D(S) over those protein–chain pairs (pairs with |S| < 3 are left out).
 * The null: for each pair, a random set of |S| residues drawn uniformly without replacement from the chain
 * residues aligned to the protein that have a CA; the same mean over the pairs. The expected distance is exact: the
 * mean pairwise distance of a uniform random subset is the mean over all pairs of the chain's residues (each pair
 * is equally likely to be in it), averaged over the protein–chain pairs. The one-sided p-value is
 * (1 + #{null ≤ observed}) / (1 + K) over K random draws, with Besag and Clifford's sequential stop: once
 * CLUSTER_STOP_HITS draws are at least as compact as observed (after k draws), p = hits / k (clearly above
 * CLUSTER_MAX_P, so the verdict is the same; most features stop after a few dozen draws instead of K).
 * The feature "clusters in 3D" when p ≤ CLUSTER_MAX_P. Random sets come from a seeded generator, so the same
 * store and structures give the same card.
 */
import type { StructureClustering } from '../../../shared/store-types'
import { mulberry32 } from '../random'

export const CLUSTER_PERMUTATIONS = 199
export const CLUSTER_MAX_P = 0.01
export const CLUSTER_MIN_RESIDUES = 3
export const CLUSTER_STOP_HITS = 20

/** CA coordinates of a chain per position of a protein sequence: x, y, z at 3·i (NaN where none aligns). */
export interface ChainTrack {
  /** e.g. "2HHB:A". */
  label: string
  ca: Float64Array
}

/** Mean pairwise CA distance (Å) of `positions` (sequence positions with coordinates in `ca`); 0 below 2. */
export function meanPairwiseDistance(ca: Float64Array, positions: ArrayLike<number>): number {
  const n = positions.length
  if (n < 2) return 0
  let sum = 0
  for (let i = 0; i < n; i++) {
    const a = 3 * positions[i]
    for (let j = i + 1; j < n; j++) {
      const b = 3 * positions[j]
      const dx = ca[a] - ca[b]
      const dy = ca[a + 1] - ca[b + 1]
      const dz = ca[a + 2] - ca[b + 2]
      sum += Math.sqrt(dx * dx + dy * dy + dz * dz)
    }
  }
  return sum / ((n * (n - 1)) / 2)
}

const allPairs = new WeakMap<ChainTrack, number>()

/** Mean pairwise CA distance over every residue of the track with coordinates (cached per track). */
function allPairsMean(track: ChainTrack, pool: Int32Array): number {
  let v = allPairs.get(track)
  if (v === undefined) {
    v = meanPairwiseDistance(track.ca, pool)
    allPairs.set(track, v)
  }
  return v
}

/** Sequence positions of `track` that have coordinates. */
export function positionsWithCoordinates(track: ChainTrack): Int32Array {
  const out: number[] = []
  for (let i = 0; 3 * i < track.ca.length; i++) if (!Number.isNaN(track.ca[3 * i])) out.push(i)
  return Int32Array.from(out)
}

/**
 * The clustering test over the protein–chain pairs of one feature (`firing`: the protein's firing residues,
 * 0-based sequence positions). Null when no pair has CLUSTER_MIN_RESIDUES firing residues with coordinates.
 */
export function clusteringTest(
  sets: { track: ChainTrack; firing: ArrayLike<number> }[],
  seed: number,
  permutations = CLUSTER_PERMUTATIONS
): StructureClustering | null {
  const used: { track: ChainTrack; s: Int32Array; pool: Int32Array }[] = []
  for (const { track, firing } of sets) {
    const s = Int32Array.from(new Set(Array.from(firing)))
      .filter(i => 3 * i < track.ca.length && !Number.isNaN(track.ca[3 * i]))
      .sort()
    const pool = positionsWithCoordinates(track)
    if (s.length >= CLUSTER_MIN_RESIDUES && pool.length > s.length) used.push({ track, s, pool })
  }
  if (used.length === 0) return null
  let observed = 0
  for (const u of used) observed += meanPairwiseDistance(u.track.ca, u.s)
  observed /= used.length
  const rand = mulberry32(seed)
  let hits = 0
  let draws = 0
  for (let k = 0; k < permutations && hits < CLUSTER_STOP_HITS; k++) {
    draws++
    let stat = 0
    for (const u of used) {
      // partial Fisher–Yates: the first |S| entries of the (running) pool are a uniform random subset
      const n = u.s.length
      const pool = u.pool
      for (let i = 0; i < n; i++) {
        const j = i + Math.floor(rand() * (pool.length - i))
        const t = pool[i]
        pool[i] = pool[j]
        pool[j] = t
      }
      stat += meanPairwiseDistance(u.track.ca, pool.subarray(0, n))
    }
    stat /= used.length
    if (stat <= observed) hits++
  }
  const p = hits >= CLUSTER_STOP_HITS ? hits / draws : (1 + hits) / (1 + permutations)
  return {
    structures: used.length,
    chains: used.map(u => u.track.label),
    residues: used.reduce((a, u) => a + u.s.length, 0),
    meanDistance: observed,
    expectedDistance: used.reduce((a, u) => a + allPairsMean(u.track, u.pool), 0) / used.length,
    p,
    permutations: draws,
    clusters: p <= CLUSTER_MAX_P
  }
}

/** The card's phrase, e.g. "clusters in 3D (mean CA distance 9.1 Å vs 21.4 Å expected; 4 structures)". */
export function clusteringText(c: StructureClustering): string {
  const numbers = `mean CA distance ${c.meanDistance.toFixed(1)} Å vs ${c.expectedDistance.toFixed(1)} Å expected; ${c.structures} structure${c.structures === 1 ? '' : 's'}`
  return `${c.clusters ? 'clusters in 3D' : 'no 3D clustering'} (${numbers})`
}
