/**
 * Sequence generation with a steered model. Only the 20 standard amino acids are ever produced (the logits
 * of every other token are ignored). Each generated sequence i draws from its own random stream
 * `Prng(seed, i)`, so a run is reproducible and sequence i does not depend on n or on batching.
 *
 * - edit: the start sequence is run once through the steered model; every residue position takes the argmax
 *   (temperature 0) or a sample at the temperature of its steered logits. All n sequences share that one forward.
 * - resample: n copies of the start; in each of `rounds` rounds, each copy gets round(maskFraction × L)
 *   (at least 1) random positions replaced by `<mask>`, the steered model predicts them, and they are
 *   sampled at the temperature (argmax at 0).
 * - denovo: n all-`<mask>` sequences of the given length; a random order of the positions is drawn per
 *   sequence and split into `rounds` steps (at most one per residue); at each step the steered model is run on
 *   the partly unmasked sequence and the step's positions are filled by sampling.
 */
import { CLS_ID, EOS_ID, ESM_VOCAB, MASK_ID, STANDARD_AMINO_ACIDS } from '../esm/alphabet'
import type { GenerationSettings } from '../../../shared/steering-types'
import type { FeatureIntervention } from './intervention'
import { Prng } from './prng'
import { batchesOf, type SteeredModel } from './steered-model'

/** Token ids of the 20 standard amino acids, in STANDARD_AMINO_ACIDS order. */
export const STANDARD_IDS: readonly number[] = [...STANDARD_AMINO_ACIDS].map(a =>
  ESM_VOCAB.indexOf(a as (typeof ESM_VOCAB)[number])
)

export interface GenerationProgress {
  done: number
  total: number
}

export interface GenerationOptions {
  signal?: AbortSignal
  onProgress?: (p: GenerationProgress) => void
  /**
   * Generate only these sequences of the run (their stream indices, e.g. the ones a resumed experiment still
   * lacks); the result has one entry per index, in this order. Default: 0 .. settings.n − 1.
   */
  indices?: number[]
}

/** Probabilities of the 20 standard amino acids at one token row of logits ([T, V]), at a temperature > 0. */
export function standardProbabilities(
  logits: Float32Array,
  row: number,
  vocab: number,
  temperature: number
): Float64Array {
  const p = new Float64Array(STANDARD_IDS.length)
  let max = -Infinity
  for (let a = 0; a < p.length; a++) max = Math.max(max, logits[row * vocab + STANDARD_IDS[a]])
  let sum = 0
  for (let a = 0; a < p.length; a++) {
    p[a] = Math.exp((logits[row * vocab + STANDARD_IDS[a]] - max) / temperature)
    sum += p[a]
  }
  for (let a = 0; a < p.length; a++) p[a] /= sum
  return p
}

/** A token id for one row: argmax over the 20 (temperature 0; ties to the first in alphabet order) or a sample. */
export function pickToken(logits: Float32Array, row: number, vocab: number, temperature: number, rng: Prng): number {
  if (temperature === 0) {
    let best = 0
    for (let a = 1; a < STANDARD_IDS.length; a++)
      if (logits[row * vocab + STANDARD_IDS[a]] > logits[row * vocab + STANDARD_IDS[best]]) best = a
    return STANDARD_IDS[best]
  }
  const p = standardProbabilities(logits, row, vocab, temperature)
  const u = rng.next()
  let c = 0
  for (let a = 0; a < p.length; a++) {
    c += p[a]
    if (u < c) return STANDARD_IDS[a]
  }
  return STANDARD_IDS[p.length - 1]
}

function throwIfCancelled(signal?: AbortSignal): void {
  if (signal?.aborted) throw new Error('cancelled')
}

function withEnds(residues: Int32Array): Int32Array {
  const t = new Int32Array(residues.length + 2)
  t[0] = CLS_ID
  t.set(residues, 1)
  t[t.length - 1] = EOS_ID
  return t
}

/**
 * Generates `settings.n` token sequences (`<cls>` + residues + `<eos>`). `start` holds the start's tokens
 * (edit, resample); for denovo pass undefined and set `settings.length`. `intervention` must be resolved for
 * the sequences' length.
 */
export async function generateTokens(
  steered: SteeredModel,
  intervention: FeatureIntervention,
  start: Int32Array | undefined,
  settings: GenerationSettings,
  opts: GenerationOptions = {}
): Promise<Int32Array[]> {
  const V = steered.model.config.vocabSize
  const streams = opts.indices ?? Array.from({ length: settings.n }, (_, i) => i)
  const n = streams.length
  const rngs = streams.map(i => new Prng(settings.seed, i))
  const T = settings.temperature
  if (settings.mode === 'edit') {
    if (!start) throw new Error('edit mode needs a starting sequence')
    throwIfCancelled(opts.signal)
    const [logits] = await steered.logits([start], intervention)
    const out = rngs.map(rng => {
      const t = start.slice()
      for (let r = 1; r < t.length - 1; r++) t[r] = pickToken(logits, r, V, T, rng)
      return t
    })
    opts.onProgress?.({ done: n, total: n })
    return out
  }
  let seqs: Int32Array[]
  let schedule: (i: number, round: number) => number[]
  let rounds: number
  if (settings.mode === 'resample') {
    if (!start) throw new Error('resample mode needs a starting sequence')
    const L = start.length - 2
    const k = Math.max(1, Math.round(settings.maskFraction * L))
    seqs = rngs.map(() => start.slice())
    rounds = settings.rounds
    schedule = i => rngs[i].choose(L, k)
  } else {
    const L = settings.length
    if (!L || L < 1) throw new Error('de novo generation needs a length ≥ 1')
    seqs = rngs.map(() => withEnds(new Int32Array(L).fill(MASK_ID)))
    rounds = Math.min(settings.rounds, L)
    const orders = rngs.map(rng => rng.choose(L, L))
    schedule = (i, round) => orders[i].slice(Math.round((round * L) / rounds), Math.round(((round + 1) * L) / rounds))
  }
  const total = n * rounds
  let done = 0
  const indices = seqs.map((s, i) => ({ i, length: s.length }))
  for (let round = 0; round < rounds; round++) {
    for (const batch of batchesOf(indices, steered.limits)) {
      throwIfCancelled(opts.signal)
      const positions = batch.map(({ i }) => schedule(i, round))
      const inputs = batch.map(({ i }, b) => {
        const t = seqs[i].slice()
        for (const p of positions[b]) t[p + 1] = MASK_ID
        return t
      })
      const logits = await steered.logits(inputs, intervention)
      batch.forEach(({ i }, b) => {
        const sorted = [...positions[b]].sort((x, y) => x - y)
        for (const p of sorted) seqs[i][p + 1] = pickToken(logits[b], p + 1, V, T, rngs[i])
      })
      done += batch.length
      opts.onProgress?.({ done, total })
    }
  }
  return seqs
}
