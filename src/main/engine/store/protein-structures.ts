/**
 * The structures of a project as the label cards see them: for a protein (accession + sequence), the CA
 * coordinates of the structure chain aligned to it, per sequence position.
 *
 * A structure is a candidate for a protein when it names the protein's accession (the project's structure list:
 * manifest chains or the file's UniProt cross-references). The chain is chosen as the structure view chooses it
 * (src/shared/chain-mapping: global alignment to every chain, most identical residues) and used only when the
 * view would paint the protein on it (identity ≥ 30 %, overlap ≥ 50 %). Of several candidates, the chain with
 * the most identical aligned residues wins. Files are read and parsed once, when first needed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, extname, join } from 'node:path'
import { chooseChain, paintCheck, type ChainMatch } from '../../../shared/chain-mapping'
import { readStructure, type StructureChain } from '../../../shared/structure-reader'
import type { ChainTrack } from './structure-clustering'

export interface StructureSource {
  /** e.g. "2HHB" (chains are labelled "2HHB:A"). */
  name: string
  /** Accessions of the proteins the structure shows. */
  proteinIds: string[]
  /** The file's text (read when first needed). */
  text: () => string
}

export class ProteinStructures {
  private readonly byAccession = new Map<string, StructureSource[]>()
  private readonly parsed = new Map<StructureSource, StructureChain[] | null>()
  private readonly tracks = new Map<string, ChainTrack | null>()

  constructor(readonly sources: StructureSource[]) {
    for (const s of sources)
      for (const id of s.proteinIds) {
        const key = id.toUpperCase()
        const list = this.byAccession.get(key) ?? []
        list.push(s)
        this.byAccession.set(key, list)
      }
  }

  /** Structure files on disk (a project's `structures/`). */
  static fromFiles(files: { path: string; name: string; proteinIds: string[] }[]): ProteinStructures {
    return new ProteinStructures(
      files.map(f => ({ name: f.name, proteinIds: f.proteinIds, text: () => readFileSync(f.path, 'utf8') }))
    )
  }

  /**
   * Every PDB / mmCIF file of a folder (.pdb, .ent, .cif, .mmcif); each shows the proteins its UniProt
   * cross-references name (PDB DBREF, mmCIF _struct_ref), so a file without them is listed but matches nothing.
   */
  static fromFolder(dir: string): ProteinStructures {
    if (!existsSync(dir)) throw new Error(`structure folder ${dir} does not exist: give a folder of .pdb / .cif files`)
    const files = readdirSync(dir)
      .filter(f => /\.(pdb|ent|cif|mmcif)$/i.test(f))
      .sort()
    if (files.length === 0) throw new Error(`structure folder ${dir} has no .pdb, .ent, .cif or .mmcif file`)
    return new ProteinStructures(
      files.map(f => {
        const text = readFileSync(join(dir, f), 'utf8')
        let proteinIds: string[]
        try {
          proteinIds = readStructure(text).uniprot
        } catch (e) {
          throw new Error(`${join(dir, f)}: ${(e as Error).message}`, { cause: e })
        }
        return { name: basename(f, extname(f)).toUpperCase(), proteinIds, text: () => text }
      })
    )
  }

  /** Proteins (accessions) some structure names. */
  get accessions(): number {
    return this.byAccession.size
  }

  get size(): number {
    return this.sources.length
  }

  /** The aligned chain's CA coordinates per position of `sequence`, or null when no structure fits it. */
  trackOf(accession: string, sequence: string): ChainTrack | null {
    const key = accession.toUpperCase()
    const known = this.tracks.get(key)
    if (known !== undefined) return known
    let best: { source: StructureSource; chain: StructureChain; match: ChainMatch } | null = null
    for (const source of this.byAccession.get(key) ?? []) {
      const chains = this.chainsOf(source)
      if (!chains) continue
      const match = chooseChain(sequence, chains).best
      if (!match) continue
      const chain = chains[match.chainIndex]
      if (!paintCheck(match.alignment, sequence.length, chain.sequence.length).ok) continue
      if (!best || match.alignment.matches > best.match.alignment.matches) best = { source, chain, match }
    }
    let track: ChainTrack | null = null
    if (best) {
      const ca = new Float64Array(3 * sequence.length).fill(Number.NaN)
      const q2t = best.match.alignment.queryToTarget
      for (let q = 0; q < sequence.length; q++) {
        const r = q2t[q] >= 0 ? best.chain.residues[q2t[q]].ca : null
        if (r) ca.set(r, 3 * q)
      }
      track = { label: `${best.source.name}:${best.chain.chainId}`, ca }
    }
    this.tracks.set(key, track)
    return track
  }

  private chainsOf(source: StructureSource): StructureChain[] | null {
    let chains = this.parsed.get(source)
    if (chains === undefined) {
      try {
        chains = readStructure(source.text()).chains
      } catch {
        chains = null // an unreadable file gives no clustering; the structure view reports it to the user
      }
      this.parsed.set(source, chains)
    }
    return chains
  }
}
