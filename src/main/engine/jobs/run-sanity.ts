/**
 * After indexing, a plain check that a run's latents look like the output of a working SAE, so that broken
 * weights (NaN, bit flips) or an SAE on the wrong model/layer give a warning instead of a clean "done":
 *
 *   - no feature fired on any residue (every feature dead): NaN weights or activations, or a dead SAE;
 *   - more features per residue than a TopK SAE can fire (its k);
 *   - more than `DENSE_FRACTION` of all features firing per residue on average: an SAE is sparse by design
 *     (trained SAEs fire well under 1% of their features; 10% is far outside any published figure). Only
 *     checked for SAEs of at least `DENSE_CHECK_MIN_FEATURES` features: tiny test SAEs are dense by nature.
 */
export const DENSE_FRACTION = 0.1
export const DENSE_CHECK_MIN_FEATURES = 1024

export interface RunSparsity {
  residues: number
  nonzeros: number
  deadFeatures?: number
}

export function runWarnings(s: RunSparsity, dSae: number, maxActivePerResidue?: number): string[] {
  if (s.residues <= 0) return []
  const out: string[] = []
  const mean = s.nonzeros / s.residues
  if (s.nonzeros === 0) {
    out.push(
      `No feature fired on any of the ${s.residues} residues (all ${dSae} features are dead): the SAE's or the model's weights are probably broken ` +
        '(NaN values?), or the SAE does not belong to this model and layer. Check the files and index again.'
    )
  } else if (maxActivePerResidue !== undefined && mean > maxActivePerResidue + 1e-9) {
    out.push(
      `On average ${mean.toFixed(1)} features fire per residue, but this TopK SAE keeps at most ${maxActivePerResidue}: the results are wrong ` +
        '(damaged weights or a bug); do not trust this run.'
    )
  } else if (dSae >= DENSE_CHECK_MIN_FEATURES && mean > DENSE_FRACTION * dSae) {
    out.push(
      `On average ${mean.toFixed(1)} of the ${dSae} features fire per residue (${((100 * mean) / dSae).toFixed(1)}%), far from sparse ` +
        `(a trained SAE fires well under ${DENSE_FRACTION * 100}% of its features): the SAE's weights may be damaged, or it was trained on another model or layer.`
    )
  }
  return out
}
