/**
 * What an indexing job needs from "model + SAE": SAE latents for a stream of sequences. The implementation
 * (`LatentExtractor`, latent-extractor.ts) chains the ESM2 graph up to the SAE's layer with the SAE encoder.
 */
import type { SequenceInput } from '../esm/esm2-model'
import type { SparseLatents } from './sparse-latents'

export interface LatentSourceProgress {
  sequences: number
  residues: number
}

export interface LatentSource {
  /** The SAE's width. */
  readonly dSae: number
  /** The model layer the SAE reads (HF numbering). */
  readonly layer: number
  /** The most features that can fire on one residue (TopK SAEs: k), when the SAE has such a bound. */
  readonly maxActivePerResidue?: number
  /**
   * Latents for every input (yielded as sequences complete, not necessarily in input order). Memory stays
   * bounded for a long stream. Throws 'cancelled' when the signal aborts.
   */
  extract(
    inputs: Iterable<SequenceInput> | AsyncIterable<SequenceInput>,
    opts?: { signal?: AbortSignal; onProgress?: (p: LatentSourceProgress) => void }
  ): AsyncGenerator<SparseLatents>
  close(): Promise<void>
}
