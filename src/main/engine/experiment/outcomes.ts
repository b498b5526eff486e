/**
 * Sequence outcomes that need no model, from their definitions:
 * - `topResidueShare`: count of the most frequent residue / length;
 * - `longestRun`: the longest stretch of one repeated residue;
 * - `lowComplexityFraction`: fraction of residues covered by at least one window of `LC_WINDOW` residues whose
 *   Shannon entropy (bits, over the window's residue counts) is below `LC_ENTROPY` (the SEG algorithm's first
 *   pass with its default window 12 and trigger complexity 2.2);
 * - `compositionShift`: total-variation distance ½ Σ_a |p_a − q_a| between the 20-amino-acid compositions;
 * - `pairwiseIdentity`: fraction of equal positions of two sequences of equal length;
 * - `featureMeans` / `changedFeatures`: a sequence's mean activation per feature over its residues (from sparse
 *   latents) and the features, other than excluded ones, whose mean moved most from a reference.
 */
import { STANDARD_AMINO_ACIDS } from '../esm/alphabet'
import type { SparseLatents } from '../sae/sparse-latents'

export const LC_WINDOW = 12
export const LC_ENTROPY = 2.2

/**
 * Amino-acid composition of UniProtKB/Swiss-Prot (release statistics, %), in STANDARD_AMINO_ACIDS order is
 * looked up by letter: the reference of composition shift for de novo sequences.
 */
export const SWISSPROT_COMPOSITION: Record<string, number> = {
  A: 8.25,
  R: 5.53,
  N: 4.06,
  D: 5.45,
  C: 1.37,
  Q: 3.93,
  E: 6.75,
  G: 7.07,
  H: 2.27,
  I: 5.96,
  L: 9.66,
  K: 5.84,
  M: 2.42,
  F: 3.86,
  P: 4.7,
  S: 6.56,
  T: 5.34,
  W: 1.08,
  Y: 2.92,
  V: 6.87
}

export function composition(seq: string): Float64Array {
  const c = new Float64Array(STANDARD_AMINO_ACIDS.length)
  let n = 0
  for (const ch of seq) {
    const k = STANDARD_AMINO_ACIDS.indexOf(ch)
    if (k >= 0) {
      c[k]++
      n++
    }
  }
  if (n > 0) for (let k = 0; k < c.length; k++) c[k] /= n
  return c
}

export function backgroundComposition(): Float64Array {
  const c = Float64Array.from([...STANDARD_AMINO_ACIDS], a => SWISSPROT_COMPOSITION[a])
  const s = c.reduce((a, b) => a + b, 0)
  return c.map(v => v / s)
}

export function compositionShift(p: Float64Array, q: Float64Array): number {
  let s = 0
  for (let k = 0; k < p.length; k++) s += Math.abs(p[k] - q[k])
  return s / 2
}

export function topResidueShare(seq: string): number {
  const counts = new Map<string, number>()
  let best = 0
  for (const ch of seq) {
    const c = (counts.get(ch) ?? 0) + 1
    counts.set(ch, c)
    best = Math.max(best, c)
  }
  return seq.length ? best / seq.length : 0
}

export function longestRun(seq: string): number {
  let best = 0
  let run = 0
  for (let i = 0; i < seq.length; i++) {
    run = i > 0 && seq[i] === seq[i - 1] ? run + 1 : 1
    best = Math.max(best, run)
  }
  return best
}

function entropyBits(window: string): number {
  const counts = new Map<string, number>()
  for (const ch of window) counts.set(ch, (counts.get(ch) ?? 0) + 1)
  let h = 0
  for (const c of counts.values()) {
    const p = c / window.length
    h -= p * Math.log2(p)
  }
  return h
}

export function lowComplexityFraction(seq: string, window = LC_WINDOW, threshold = LC_ENTROPY): number {
  const L = seq.length
  if (L === 0) return 0
  const covered = new Uint8Array(L)
  if (L < window) {
    if (entropyBits(seq) < threshold) covered.fill(1)
  } else {
    for (let i = 0; i + window <= L; i++)
      if (entropyBits(seq.slice(i, i + window)) < threshold) covered.fill(1, i, i + window)
  }
  let n = 0
  for (const c of covered) n += c
  return n / L
}

export function pairwiseIdentity(a: string, b: string): number {
  if (a.length !== b.length || a.length === 0) return NaN
  let same = 0
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++
  return same / a.length
}

/** Per sequence: mean identity to the other sequences of the same group (undefined when it is alone). */
export function meanPairwiseIdentities(seqs: { group: string; sequence: string }[]): (number | undefined)[] {
  return seqs.map((s, i) => {
    let sum = 0
    let n = 0
    seqs.forEach((t, j) => {
      if (j === i || t.group !== s.group || t.sequence.length !== s.sequence.length) return
      sum += pairwiseIdentity(s.sequence, t.sequence)
      n++
    })
    return n ? sum / n : undefined
  })
}

/** Mean activation per feature over the residue rows (a sparse map: features that fire somewhere). */
export function featureMeans(latents: SparseLatents): Map<number, number> {
  const m = new Map<number, number>()
  for (let k = 0; k < latents.features.length; k++)
    m.set(latents.features[k], (m.get(latents.features[k]) ?? 0) + latents.values[k])
  for (const [f, v] of m) m.set(f, v / latents.rows)
  return m
}

/** Mean of a feature over residues [from, to) (0-based residue rows). */
export function rangeMean(latents: SparseLatents, feature: number, from: number, to: number): number {
  let s = 0
  for (let r = from; r < to; r++) {
    for (let k = latents.indptr[r]; k < latents.indptr[r + 1]; k++)
      if (latents.features[k] === feature) s += latents.values[k]
  }
  return to > from ? s / (to - from) : 0
}

/** The `top` features (not in `exclude`) with the largest |mean − reference mean|. */
export function changedFeatures(
  means: Map<number, number>,
  reference: Map<number, number>,
  exclude: Set<number>,
  top = 5
): { feature: number; delta: number }[] {
  const deltas: { feature: number; delta: number }[] = []
  const seen = new Set<number>()
  for (const [f, v] of means) {
    seen.add(f)
    if (!exclude.has(f)) deltas.push({ feature: f, delta: v - (reference.get(f) ?? 0) })
  }
  for (const [f, v] of reference) if (!seen.has(f) && !exclude.has(f)) deltas.push({ feature: f, delta: -v })
  deltas.sort((a, b) => Math.abs(b.delta) - Math.abs(a.delta) || a.feature - b.feature)
  return deltas.slice(0, top)
}
