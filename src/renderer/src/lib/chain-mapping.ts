/**
 * Put per-residue values of a protein sequence onto a structure: align the sequence to each chain, pick the
 * chain that matches best, and carry the values over to the chain's residues through the alignment.
 */
import { alignGlobal, type AlignmentOptions, type SequenceAlignment } from './alignment'
import type { StructureChain } from './structure-sequence'

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
  const all = chains.map((chain, chainIndex) => ({ chainId: chain.chainId, chainIndex, alignment: alignGlobal(sequence, chain.sequence, options) }))
  let best: ChainMatch | null = null
  for (const match of all) {
    if (match.alignment.matches === 0) continue
    if (
      !best ||
      match.alignment.matches > best.alignment.matches ||
      (match.alignment.matches === best.alignment.matches && match.alignment.identity > best.alignment.identity)
    ) best = match
  }
  return { best, all }
}

/** Values per chain residue (null where the chain residue has no sequence residue: an insertion). */
export function valuesOnChain(values: ArrayLike<number>, alignment: SequenceAlignment): (number | null)[] {
  if (values.length !== alignment.queryToTarget.length) {
    throw new Error(`valuesOnChain: ${values.length} values for a sequence of ${alignment.queryToTarget.length} residues`)
  }
  return Array.from(alignment.targetToQuery, (q) => (q < 0 ? null : values[q]))
}

/** Key of a chain residue as Mol* and the PDB file name it: "A:42" or "A:42B" with an insertion code. */
export function residueKey(chainId: string, seqNumber: number, insCode = ''): string {
  return `${chainId}:${seqNumber}${insCode}`
}
