/**
 * Put per-residue values of a protein sequence onto a structure: align the sequence to each chain, pick the
 * chain that matches best, and carry the values over to the chain's residues through the alignment.
 */
import { alignGlobal, type AlignmentOptions, type SequenceAlignment } from './alignment'
import type { StructureChain } from './structure-reader'

export interface ChainMatch {
  chainId: string
  chainIndex: number
  alignment: SequenceAlignment
}

export interface ChainChoice {
  best: ChainMatch | null
  /** Every chain, in file order, with its alignment. */
  all: ChainMatch[]
}

/**
 * Align `sequence` to every chain and choose the best: most identical aligned residues, then highest identity,
 * then the first chain in the file (so the A chain of a homodimer wins).
 */
export function chooseChain(sequence: string, chains: StructureChain[], options?: AlignmentOptions): ChainChoice {
  const all = chains.map((chain, chainIndex) => ({
    chainId: chain.chainId,
    chainIndex,
    alignment: alignGlobal(sequence, chain.sequence, options)
  }))
  let best: ChainMatch | null = null
  for (const match of all) {
    if (match.alignment.matches === 0) continue
    if (
      !best ||
      match.alignment.matches > best.alignment.matches ||
      (match.alignment.matches === best.alignment.matches && match.alignment.identity > best.alignment.identity)
    )
      best = match
  }
  return { best, all }
}

/** Values per chain residue (null where the chain residue has no sequence residue: an insertion). */
export function valuesOnChain(values: ArrayLike<number>, alignment: SequenceAlignment): (number | null)[] {
  if (values.length !== alignment.queryToTarget.length) {
    throw new Error(
      `valuesOnChain: ${values.length} values for a sequence of ${alignment.queryToTarget.length} residues`
    )
  }
  return Array.from(alignment.targetToQuery, q => (q < 0 ? null : values[q]))
}

/** Key of a chain residue as Mol* and the PDB file name it: "A:42" or "A:42B" with an insertion code. */
export function residueKey(chainId: string, seqNumber: number, insCode = ''): string {
  return `${chainId}:${seqNumber}${insCode}`
}

/** Below these a sequence is not painted onto a chain unless the user says so: the chain is another protein. */
export const PAINT_MIN_IDENTITY = 0.3
export const PAINT_MIN_OVERLAP = 0.5

export interface PaintCheck {
  ok: boolean
  identity: number
  /** Aligned pairs over the shorter of the sequence and the chain (a domain structure of a long protein is fine). */
  overlap: number
  alignedPairs: number
  /** Why painting is refused, with the numbers; empty when ok. */
  reason: string
}

/** Whether the activations of `sequence` may be painted onto a chain through `alignment`. */
export function paintCheck(alignment: SequenceAlignment, sequenceLength: number, chainLength: number): PaintCheck {
  const shorter = Math.max(1, Math.min(sequenceLength, chainLength))
  const overlap = alignment.alignedPairs / shorter
  const identity = alignment.identity
  const pct = (v: number): string => `${(v * 100).toFixed(0)}%`
  const problems: string[] = []
  if (identity < PAINT_MIN_IDENTITY) problems.push(`identity ${pct(identity)} is below ${pct(PAINT_MIN_IDENTITY)}`)
  if (overlap < PAINT_MIN_OVERLAP)
    problems.push(
      `${alignment.alignedPairs} aligned residues cover ${pct(overlap)} of the shorter sequence, below ${pct(PAINT_MIN_OVERLAP)}`
    )
  return {
    ok: problems.length === 0,
    identity,
    overlap,
    alignedPairs: alignment.alignedPairs,
    reason: problems.join('; ')
  }
}
