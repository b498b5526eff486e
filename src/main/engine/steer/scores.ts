/**
 * Scores of generated sequences:
 * - identity: the fraction of positions equal to the start (same length by construction);
 * - pseudo-log-likelihood (PLL) under the UNSTEERED model: PLL(x) = Σ_i log p(x_i | x_{\i}), where x_{\i} is
 *   x with residue i replaced by `<mask>` (one masked copy per residue; copies are batched), p the softmax
 *   over the full 33-token vocabulary of the logits at row i + 1, natural log. Also reported per residue;
 * - feature activation: each clamped feature's value when the sequence is encoded again without steering
 *   (model to layer L, then the SAE), averaged over the clamp's residue range;
 * - motif hits of a PROSITE pattern (prosite.ts).
 */
import { MASK_ID } from '../esm/alphabet'
import type { SequenceScores } from '../../../shared/steering-types'
import { FeatureIntervention } from './intervention'
import { findMotifs, type PrositePattern } from './prosite'
import type { ResolvedClamp } from './steering-plan'
import { batchesOf, type SteeredModel } from './steered-model'

export function identity(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length)
    throw new Error(`identity needs sequences of equal length (${a.length - 2} and ${b.length - 2} residues)`)
  const L = a.length - 2
  let same = 0
  for (let r = 1; r <= L; r++) if (a[r] === b[r]) same++
  return L > 0 ? same / L : 0
}

/** log p(token at row) from one row of logits (log-softmax over the full vocabulary). */
export function logProb(logits: Float32Array, row: number, vocab: number, token: number): number {
  let max = -Infinity
  for (let v = 0; v < vocab; v++) max = Math.max(max, logits[row * vocab + v])
  let sum = 0
  for (let v = 0; v < vocab; v++) sum += Math.exp(logits[row * vocab + v] - max)
  return logits[row * vocab + token] - max - Math.log(sum)
}

/**
 * PLL of each sequence under the unsteered model (see the module comment): one residue masked per forward,
 * i.e. the strided estimate with a stride no sequence reaches (each group is one residue).
 */
export async function pseudoLogLikelihood(
  steered: SteeredModel,
  sequences: Int32Array[],
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}
): Promise<number[]> {
  const longest = sequences.reduce((m, s) => Math.max(m, s.length - 2), 1)
  return stridedPseudoLogLikelihood(steered, sequences, longest, opts)
}

/** Per clamp: the mean (over the clamp's rows) of its feature in the unsteered encoding of each sequence. */
export async function clampedFeatureActivations(
  steered: SteeredModel,
  clamps: ResolvedClamp[],
  sequences: Int32Array[]
): Promise<number[][]> {
  if (clamps.length === 0) return sequences.map(() => [])
  const hidden = await steered.hiddenAtLayer(sequences)
  const probe = new FeatureIntervention(steered.sae, clamps)
  return hidden.map((h, s) => {
    const T = sequences[s].length
    const { values } = probe.naturalValues(h, T)
    const nf = probe.features.length
    return clamps.map(c => {
      const k = probe.features.indexOf(c.feature)
      let sum = 0
      for (let r = c.rowStart; r < c.rowEnd; r++) sum += values[r * nf + k]
      return sum / (c.rowEnd - c.rowStart)
    })
  })
}

export interface ScoreOptions {
  pll: boolean
  motif?: PrositePattern
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
}

/** All scores for a list of sequences (token form; `start` for identity when there is one). */
export async function scoreSequences(
  steered: SteeredModel,
  clamps: ResolvedClamp[],
  sequences: Int32Array[],
  residues: string[],
  start: Int32Array | undefined,
  opts: ScoreOptions
): Promise<SequenceScores[]> {
  const acts = await clampedFeatureActivations(steered, clamps, sequences)
  const pll = opts.pll ? await pseudoLogLikelihood(steered, sequences, opts) : undefined
  return sequences.map((s, i) => {
    const L = s.length - 2
    const scores: SequenceScores = {
      featureActivation: clamps.map((c, k) => ({ feature: c.feature, mean: acts[i][k] }))
    }
    if (start) scores.identity = identity(start, s)
    if (pll) {
      scores.pll = pll[i]
      scores.pllPerResidue = pll[i] / L
    }
    if (opts.motif) scores.motifHits = findMotifs(opts.motif, residues[i])
    return scores
  })
}

/**
 * The strided PLL estimate: residue positions are split into `stride` groups (residue i, 0-based, in group
 * i mod stride); each group is masked together in one forward of the unsteered model and the log-probabilities
 * of its residues are summed: Σ_g Σ_{i∈g} log p(x_i | x with all of g masked). `stride` forwards per sequence
 * instead of L, batched across sequences; with stride ≥ L it equals the exact PLL. Masking several residues at
 * once conditions each on less context, so the estimate is lower than the exact PLL by an amount that shrinks
 * as the stride grows (the README gives the measured gap).
 */
export async function stridedPseudoLogLikelihood(
  steered: SteeredModel,
  sequences: Int32Array[],
  stride: number,
  opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}
): Promise<number[]> {
  if (!Number.isInteger(stride) || stride < 1)
    throw new Error(`the PLL stride must be a whole number ≥ 1, got ${stride}`)
  const V = steered.model.config.vocabSize
  const jobs: { seq: number; group: number; length: number }[] = []
  sequences.forEach((s, seq) => {
    const L = s.length - 2
    for (let group = 0; group < Math.min(stride, L); group++) jobs.push({ seq, group, length: s.length })
  })
  const pll = new Array<number>(sequences.length).fill(0)
  let done = 0
  for (const batch of batchesOf(jobs, steered.limits)) {
    if (opts.signal?.aborted) throw new Error('cancelled')
    const inputs = batch.map(j => {
      const t = sequences[j.seq].slice()
      for (let row = 1 + j.group; row < t.length - 1; row += stride) t[row] = MASK_ID
      return t
    })
    const logits = await steered.unsteeredLogits(inputs)
    batch.forEach((j, k) => {
      const s = sequences[j.seq]
      for (let row = 1 + j.group; row < s.length - 1; row += stride) pll[j.seq] += logProb(logits[k], row, V, s[row])
    })
    done += batch.length
    opts.onProgress?.(done, jobs.length)
  }
  return pll
}
