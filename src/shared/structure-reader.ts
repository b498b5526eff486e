/**
 * The one reader of PDB and mmCIF text (pure TypeScript: the renderer and the engine both use it).
 *
 * Chains of a structure: the residues that have coordinates (ATOM/HETATM records or the mmCIF _atom_site loop,
 * in file order, first model only, first alternate location), each with its name, author number, insertion code,
 * one-letter code and the coordinates of its CA atom, and, where present, the deposited sequence
 * (SEQRES / _entity_poly_seq). Three-letter residue names become one-letter codes (modified residues map to
 * their parent, unknown ones to X); waters and ligands are left out. `readStructure` adds the header: title and
 * the UniProt accessions the file cross-references (PDB DBREF / mmCIF _struct_ref_seq + _struct_ref).
 */

export interface StructureResidue {
  /** Author residue number (PDB resSeq / auth_seq_id). */
  seqNumber: number
  /** Insertion code ('' when none). */
  insCode: string
  /** Three-letter name as in the file. */
  name: string
  /** One-letter code. */
  code: string
  /** Coordinates (Å) of the residue's CA atom; null when the file has none for it. */
  ca: [number, number, number] | null
}

export interface StructureChain {
  /** Author chain id (PDB chainID / auth_asym_id). */
  chainId: string
  /** Residues with coordinates, in file order. */
  residues: StructureResidue[]
  /** One-letter sequence of `residues`. */
  sequence: string
  /** Deposited sequence (SEQRES / entity_poly_seq) when the file has one. */
  seqres?: string
}

export type StructureFormat = 'pdb' | 'mmcif'

const THREE_TO_ONE: Record<string, string> = {
  ALA: 'A',
  ARG: 'R',
  ASN: 'N',
  ASP: 'D',
  CYS: 'C',
  GLN: 'Q',
  GLU: 'E',
  GLY: 'G',
  HIS: 'H',
  ILE: 'I',
  LEU: 'L',
  LYS: 'K',
  MET: 'M',
  PHE: 'F',
  PRO: 'P',
  SER: 'S',
  THR: 'T',
  TRP: 'W',
  TYR: 'Y',
  VAL: 'V',
  SEC: 'U',
  PYL: 'O',
  ASX: 'B',
  GLX: 'Z',
  UNK: 'X',
  // Common modified residues → parent.
  MSE: 'M',
  SEP: 'S',
  TPO: 'T',
  PTR: 'Y',
  HYP: 'P',
  MLY: 'K',
  CSO: 'C',
  KCX: 'K',
  CME: 'C',
  HIC: 'H',
  HID: 'H',
  HIE: 'H',
  HIP: 'H',
  CYX: 'C',
  ASH: 'D',
  GLH: 'E',
  LYN: 'K',
  NLE: 'L',
  PCA: 'E',
  CSD: 'C',
  OCS: 'C',
  M3L: 'K',
  ALY: 'K',
  FME: 'M'
}

/** One-letter code of a residue name, or null when it is not an amino acid (water, ligand, nucleotide). */
export function residueCode(threeLetter: string): string | null {
  return THREE_TO_ONE[threeLetter.trim().toUpperCase()] ?? null
}

/** Guess the format from the text (mmCIF starts with data_ and has loop_/_atom_site). */
export function detectStructureFormat(text: string): StructureFormat {
  const head = text.slice(0, 2000)
  if (/^\s*data_/m.test(head) || /_atom_site\./.test(text.slice(0, 200_000))) return 'mmcif'
  return 'pdb'
}

export function parseStructureChains(
  text: string,
  format: StructureFormat = detectStructureFormat(text)
): StructureChain[] {
  return format === 'mmcif' ? parseMmcifChains(text) : parsePdbChains(text)
}

interface ChainBuilder {
  chainId: string
  residues: StructureResidue[]
  keys: Map<string, StructureResidue>
  seqres: string[]
}

function builderFor(map: Map<string, ChainBuilder>, chainId: string): ChainBuilder {
  let b = map.get(chainId)
  if (!b) {
    b = { chainId, residues: [], keys: new Map(), seqres: [] }
    map.set(chainId, b)
  }
  return b
}

function finish(map: Map<string, ChainBuilder>): StructureChain[] {
  const chains: StructureChain[] = []
  for (const b of map.values()) {
    if (b.residues.length === 0) continue
    const chain: StructureChain = {
      chainId: b.chainId,
      residues: b.residues,
      sequence: b.residues.map(r => r.code).join('')
    }
    if (b.seqres.length > 0) chain.seqres = b.seqres.join('')
    chains.push(chain)
  }
  return chains
}

export function parsePdbChains(text: string): StructureChain[] {
  const chains = new Map<string, ChainBuilder>()
  const lines = text.split(/\r?\n/)
  for (const line of lines) {
    const rec = line.slice(0, 6)
    if (rec === 'ENDMDL') break // first model only
    if (rec === 'SEQRES') {
      const chainId = line.slice(11, 12).trim()
      const names = line
        .slice(19)
        .trim()
        .split(/\s+/)
        .filter(s => /^[A-Z0-9]{1,3}$/i.test(s))
      const b = builderFor(chains, chainId)
      for (const name of names) {
        const code = residueCode(name)
        if (code) b.seqres.push(code)
      }
      continue
    }
    if (rec !== 'ATOM  ' && rec !== 'HETATM') continue
    const altLoc = line.slice(16, 17)
    if (altLoc !== ' ' && altLoc !== 'A' && altLoc !== '') continue
    const name = line.slice(17, 20).trim()
    const code = residueCode(name)
    if (!code) continue
    // HETATM only for modified amino acids that carry a CA (skips free amino acids bound as ligands poorly, but
    // keeps MSE etc.).
    const atom = line.slice(12, 16).trim()
    const chainId = line.slice(21, 22).trim()
    const seqNumber = Number.parseInt(line.slice(22, 26), 10)
    const insCode = line.slice(26, 27).trim()
    if (!Number.isFinite(seqNumber)) continue
    const b = builderFor(chains, chainId)
    const key = `${seqNumber}|${insCode}`
    const ca: [number, number, number] | null =
      atom === 'CA' ? [Number(line.slice(30, 38)), Number(line.slice(38, 46)), Number(line.slice(46, 54))] : null
    const seen = b.keys.get(key)
    if (seen) {
      if (ca && !seen.ca) seen.ca = ca
      continue
    }
    if (rec === 'HETATM' && atom !== 'CA') continue
    const residue: StructureResidue = { seqNumber, insCode, name, code, ca }
    b.keys.set(key, residue)
    b.residues.push(residue)
  }
  return finish(chains)
}

/** Split one mmCIF data line into tokens (quotes '...' and "..." hold spaces). */
function cifTokens(line: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < line.length) {
    const c = line[i]
    if (c === ' ' || c === '\t') {
      i++
      continue
    }
    if (c === "'" || c === '"') {
      let j = i + 1
      while (
        j < line.length &&
        !(line[j] === c && (j + 1 === line.length || line[j + 1] === ' ' || line[j + 1] === '\t'))
      )
        j++
      out.push(line.slice(i + 1, j))
      i = j + 1
      continue
    }
    let j = i
    while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++
    out.push(line.slice(i, j))
    i = j
  }
  return out
}

interface CifLoop {
  columns: string[]
  rows: string[][]
}

/** Read the loop_ whose columns start with `category.` (rows of simple tokens; multi-line ; values skipped). */
function readCifLoop(lines: string[], category: string): CifLoop | null {
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== 'loop_') continue
    let k = i + 1
    const columns: string[] = []
    while (k < lines.length && lines[k].trimStart().startsWith('_')) {
      columns.push(lines[k].trim().split(/\s+/)[0])
      k++
    }
    if (columns.length === 0 || !columns[0].startsWith(category + '.')) continue
    const rows: string[][] = []
    let pending: string[] = []
    for (; k < lines.length; k++) {
      const line = lines[k]
      const trimmed = line.trim()
      if (
        trimmed === '' ||
        trimmed === '#' ||
        trimmed === 'loop_' ||
        trimmed.startsWith('_') ||
        trimmed.startsWith('data_')
      )
        break
      if (trimmed.startsWith(';')) continue
      pending.push(...cifTokens(line))
      while (pending.length >= columns.length) {
        rows.push(pending.slice(0, columns.length))
        pending = pending.slice(columns.length)
      }
    }
    return { columns: columns.map(c => c.slice(category.length + 1)), rows }
  }
  return null
}

export function parseMmcifChains(text: string): StructureChain[] {
  const lines = text.split(/\r?\n/)
  const chains = new Map<string, ChainBuilder>()
  const atoms = readCifLoop(lines, '_atom_site')
  if (!atoms) throw new Error('mmCIF file has no _atom_site loop: no coordinates to show')
  const col = (name: string): number => atoms.columns.indexOf(name)
  const cGroup = col('group_PDB')
  const cAtom = col('label_atom_id')
  const cAlt = col('label_alt_id')
  const cComp = col('auth_comp_id') >= 0 ? col('auth_comp_id') : col('label_comp_id')
  const cChain = col('auth_asym_id') >= 0 ? col('auth_asym_id') : col('label_asym_id')
  const cSeq = col('auth_seq_id') >= 0 ? col('auth_seq_id') : col('label_seq_id')
  const cIns = col('pdbx_PDB_ins_code')
  const cModel = col('pdbx_PDB_model_num')
  const cEntity = col('label_entity_id')
  const cX = col('Cartn_x')
  const cY = col('Cartn_y')
  const cZ = col('Cartn_z')
  if (cComp < 0 || cChain < 0 || cSeq < 0) throw new Error('mmCIF _atom_site lacks comp_id, asym_id or seq_id columns')
  let firstModel: string | null = null
  const entityOfChain = new Map<string, string>()
  for (const row of atoms.rows) {
    if (cModel >= 0) {
      if (firstModel === null) firstModel = row[cModel]
      else if (row[cModel] !== firstModel) continue
    }
    const alt = cAlt >= 0 ? row[cAlt] : '.'
    if (alt !== '.' && alt !== '?' && alt !== 'A') continue
    const name = row[cComp]
    const code = residueCode(name)
    if (!code) continue
    const group = cGroup >= 0 ? row[cGroup] : 'ATOM'
    if (group === 'HETATM' && cAtom >= 0 && row[cAtom] !== 'CA') continue
    const chainId = row[cChain]
    const seqNumber = Number.parseInt(row[cSeq], 10)
    if (!Number.isFinite(seqNumber)) continue
    const ins = cIns >= 0 ? row[cIns] : '?'
    const insCode = ins === '?' || ins === '.' ? '' : ins
    const b = builderFor(chains, chainId)
    const key = `${seqNumber}|${insCode}`
    const ca: [number, number, number] | null =
      row[cAtom] === 'CA' && cX >= 0 && cY >= 0 && cZ >= 0 ? [Number(row[cX]), Number(row[cY]), Number(row[cZ])] : null
    const seen = b.keys.get(key)
    if (seen) {
      if (ca && !seen.ca) seen.ca = ca
      continue
    }
    const residue: StructureResidue = { seqNumber, insCode, name, code, ca }
    b.keys.set(key, residue)
    b.residues.push(residue)
    if (cEntity >= 0 && !entityOfChain.has(chainId)) entityOfChain.set(chainId, row[cEntity])
  }
  const polySeq = readCifLoop(lines, '_entity_poly_seq')
  if (polySeq) {
    const ce = polySeq.columns.indexOf('entity_id')
    const cm = polySeq.columns.indexOf('mon_id')
    const byEntity = new Map<string, string[]>()
    for (const row of polySeq.rows) {
      const code = residueCode(row[cm])
      if (!code) continue
      const list = byEntity.get(row[ce]) ?? []
      list.push(code)
      byEntity.set(row[ce], list)
    }
    for (const b of chains.values()) {
      const e = entityOfChain.get(b.chainId)
      const seq = e ? byEntity.get(e) : undefined
      if (seq) b.seqres = seq
    }
  }
  return finish(chains)
}

export interface StructureFile {
  format: StructureFormat
  /** TITLE (PDB) or _struct.title (mmCIF); '' when the file has none. */
  title: string
  chains: StructureChain[]
  /** UniProt accessions the file cross-references (PDB DBREF … UNP, mmCIF _struct_ref with db_name UNP). */
  uniprot: string[]
}

/** A PDB or mmCIF file: header (title, UniProt cross-references) and chains with CA coordinates. */
export function readStructure(text: string, format: StructureFormat = detectStructureFormat(text)): StructureFile {
  const chains = parseStructureChains(text, format)
  if (format === 'pdb') {
    const titles: string[] = []
    const uniprot = new Set<string>()
    for (const line of text.split(/\r?\n/)) {
      const rec = line.slice(0, 6)
      if (rec === 'TITLE ') titles.push(line.slice(10, 80).trim())
      else if (rec === 'DBREF ' && line.slice(26, 32).trim() === 'UNP') uniprot.add(line.slice(33, 41).trim())
    }
    return { format, title: titles.join(' ').replace(/\s+/g, ' ').trim(), chains, uniprot: [...uniprot] }
  }
  const lines = text.split(/\r?\n/)
  const title = cifItem(lines, '_struct.title') ?? ''
  const uniprot = new Set<string>()
  const refs = readCifLoop(lines, '_struct_ref')
  if (refs) {
    const cDb = refs.columns.indexOf('db_name')
    const cAcc = refs.columns.indexOf('pdbx_db_accession')
    if (cDb >= 0 && cAcc >= 0) for (const row of refs.rows) if (row[cDb] === 'UNP') uniprot.add(row[cAcc])
  } else if (cifItem(lines, '_struct_ref.db_name') === 'UNP') {
    const acc = cifItem(lines, '_struct_ref.pdbx_db_accession')
    if (acc) uniprot.add(acc)
  }
  return { format, title: title.replace(/\s+/g, ' ').trim(), chains, uniprot: [...uniprot] }
}

/** The value of a single (non-loop) mmCIF item, on its own line or on the next line(s) (quoted or ;-text). */
function cifItem(lines: string[], name: string): string | undefined {
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i].trim()
    if (!trimmed.startsWith(name) || !/\s/.test(trimmed.charAt(name.length) || ' ')) continue
    const rest = trimmed.slice(name.length).trim()
    if (rest) return cifTokens(rest)[0]
    const next = lines[i + 1] ?? ''
    if (!next.startsWith(';')) return cifTokens(next)[0]
    const parts = [next.slice(1)]
    for (let k = i + 2; k < lines.length && !lines[k].startsWith(';'); k++) parts.push(lines[k])
    return parts.join(' ').trim()
  }
  return undefined
}
