/**
 * The demo project shipped in `resources/demo/`: 100 annotated Swiss-Prot entries (`swissprot-100.dat`), five
 * PDB structures (`structures/*.pdb`), `manifest.json` (which structure chains are which UniProt residues) and
 * `PROVENANCE.md`. This module reads the manifest and checks that the files are there.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

export interface DemoChainMapping {
  chain: string
  /** UniProt accession, or null when unknown. */
  uniprot: string | null
  /** UniProt entry name (e.g. HBA_HUMAN), or null. */
  entry: string | null
  /** Whether this protein is one of the 100 demo entries. */
  inDemoSet: boolean
  /** PDB (author) residue numbers of the first and last residue with coordinates. */
  authSeqStart: number
  authSeqEnd: number
  /** The UniProt residues (1-based, inclusive) they correspond to, or null. */
  uniprotStart: number | null
  uniprotEnd: number | null
  /** True when the chain's residues were checked identical to the entry's sequence. */
  identical: boolean | null
  note: string
}

export interface DemoStructure {
  /** Path relative to the demo folder, e.g. "structures/2hhb.pdb". */
  file: string
  pdbId: string
  description: string
  method: string
  chains: DemoChainMapping[]
}

export interface DemoManifest {
  name: string
  version: number
  sequences: { file: string; format: 'uniprot-flat-file'; entries: number }
  structures: DemoStructure[]
  provenance: string
}

export interface DemoProject {
  /** The demo folder (resources/demo). */
  dir: string
  manifest: DemoManifest
  /** Absolute path of the Swiss-Prot flat file. */
  sequencesPath: string
  /** Absolute paths of the structures, in manifest order. */
  structurePaths: string[]
  /** The structures whose chains map to entries of the demo set, by accession. */
  structuresByAccession: Map<string, { structure: DemoStructure; chain: DemoChainMapping; path: string }[]>
}

/** Reads resources/demo (pass the resources folder, e.g. from `resourcesDir()` of src/main/resources-path.ts). */
export function openDemoProject(resourcesDir: string): DemoProject {
  const dir = join(resourcesDir, 'demo')
  const manifestPath = join(dir, 'manifest.json')
  let manifest: DemoManifest
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as DemoManifest
  } catch (e) {
    throw new Error(
      `${manifestPath}: cannot read the demo project's manifest (${(e as Error).message}); reinstall the app or restore resources/demo`,
      { cause: e }
    )
  }
  const sequencesPath = join(dir, manifest.sequences.file)
  const structurePaths = manifest.structures.map(s => join(dir, s.file))
  const missing = [sequencesPath, ...structurePaths].filter(p => !existsSync(p))
  if (missing.length > 0)
    throw new Error(
      `the demo project is incomplete: missing ${missing.join(', ')}; reinstall the app or restore resources/demo`
    )
  const structuresByAccession = new Map<string, { structure: DemoStructure; chain: DemoChainMapping; path: string }[]>()
  manifest.structures.forEach((structure, i) => {
    for (const chain of structure.chains) {
      if (!chain.inDemoSet || !chain.uniprot) continue
      const list = structuresByAccession.get(chain.uniprot) ?? []
      list.push({ structure, chain, path: structurePaths[i] })
      structuresByAccession.set(chain.uniprot, list)
    }
  })
  return { dir, manifest, sequencesPath, structurePaths, structuresByAccession }
}
