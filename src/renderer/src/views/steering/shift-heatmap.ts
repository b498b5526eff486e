/**
 * Pure helpers of the steering preview: the probability shift (steered − unsteered) per residue and amino
 * acid, its diverging colour, and the residues whose most likely amino acid changes.
 */

export interface ShiftMatrix {
  aminoAcids: string
  residues: number
  /** [residues × 20] steered − unsteered probability. */
  delta: number[]
  /** Largest |delta|, for the colour scale. */
  maxAbs: number
  /** Residues (1-based) whose argmax amino acid changes under the clamps. */
  changedArgmax: number[]
}

export function shiftMatrix(p: {
  aminoAcids: string
  residues: number
  unsteered: number[]
  steered: number[]
}): ShiftMatrix {
  const A = p.aminoAcids.length
  const delta = p.steered.map((v, i) => v - p.unsteered[i])
  let maxAbs = 0
  for (const d of delta) maxAbs = Math.max(maxAbs, Math.abs(d))
  const changedArgmax: number[] = []
  const argmax = (arr: number[], r: number): number => {
    let best = 0
    for (let a = 1; a < A; a++) if (arr[r * A + a] > arr[r * A + best]) best = a
    return best
  }
  for (let r = 0; r < p.residues; r++) if (argmax(p.steered, r) !== argmax(p.unsteered, r)) changedArgmax.push(r + 1)
  return { aminoAcids: p.aminoAcids, residues: p.residues, delta, maxAbs, changedArgmax }
}

/** Diverging colour: blue (probability lost) — white — red (gained), |d| / maxAbs saturating. */
export function shiftColour(d: number, maxAbs: number): string {
  const t = maxAbs > 0 ? Math.max(-1, Math.min(1, d / maxAbs)) : 0
  const mix = (a: number, b: number, f: number): number => Math.round(a + (b - a) * f)
  if (t >= 0) return `rgb(255,${mix(255, 40, t)},${mix(255, 40, t)})`
  return `rgb(${mix(255, 40, -t)},${mix(255, 90, -t)},255)`
}
