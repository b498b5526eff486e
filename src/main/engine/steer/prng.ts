/**
 * The seeded random numbers of generation: every sequence of a run has its own stream, derived from the run's
 * seed and the sequence's index, so a sequence does not depend on how many others were generated with it or
 * on the batch it ran in.
 */
import { mulberry32 } from '../random'

/** splitmix32-style hash of (seed, stream) to a 32-bit state. */
function mixSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/** mulberry32 (../random.ts) on a per-stream seed. */
export class Prng {
  private readonly uniform: () => number

  constructor(seed: number, stream = 0) {
    this.uniform = mulberry32(mixSeed(seed >>> 0, stream >>> 0))
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.uniform()
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** k distinct indices of [0, n), in random order (partial Fisher-Yates). */
  choose(n: number, k: number): number[] {
    const idx = Array.from({ length: n }, (_, i) => i)
    const m = Math.min(k, n)
    for (let i = 0; i < m; i++) {
      const j = i + this.int(n - i)
      const t = idx[i]
      idx[i] = idx[j]
      idx[j] = t
    }
    return idx.slice(0, m)
  }
}
