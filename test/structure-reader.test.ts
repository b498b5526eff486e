/**
 * The one PDB / mmCIF reader (src/shared/structure-reader.ts) on the real structures of ../shared/data:
 * residue counts and sequences known for those entries (UniProt / the PDB entry pages), CA coordinates read by
 * hand from the files, and the same structure written as mmCIF (with quoted values) read back identically.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readStructure, type StructureChain } from '../src/shared/structure-reader'
import { describeStructureText } from '../src/main/workbench/projects'

const DATA = join(__dirname, '..', '..', 'shared', 'data', 'structures')
const read = (name: string): string => readFileSync(join(DATA, name), 'utf8')

// Sequences of the entries (UniProt P62988 1-76; P69905 2-142; P68871 2-147; HIV-1 protease 1-99).
const UBIQUITIN = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG'
const HBA =
  'VLSPADKTNVKAAWGKVGAHAGEYGAEALERMFLSFPTTKTYFPHFDLSHGSAQVKGHGKKVADALTNAVAHVDDMPNALSALSDLHAHKLRVDPVNFKLLSHCLLVTLAAHLPAEFTPAVHASLDKFLASVSTVLTSKYR'
const HBB =
  'VHLTPEEKSAVTALWGKVNVDEVGGEALGRLLVVYPWTQRFFESFGDLSTPDAVMGNPKVKAHGKKVLGAFSDGLAHLDNLKGTFATLSELHCDKLHVDPENFRLLGNVLVCVLAHHFGKEFTPPVQAAYQKVVAGVANALAHKYH'
const HIV_PR = 'PQITLWQRPLVTIKIGGQLKEALLDTGADDTVLEEMSLPGRWKPKMIGGIGGFIKVRQYDQILIEICGHKAIGTVLVGPTPVNIIGRNLLTQIGCTLNF'

describe('readStructure on real PDB files', () => {
  it('1UBQ: one chain of 76 residues, the ubiquitin sequence, CA coordinates as in the file', () => {
    const s = readStructure(read('1ubq.pdb'))
    expect(s.format).toBe('pdb')
    expect(s.title).toBe('STRUCTURE OF UBIQUITIN REFINED AT 1.8 ANGSTROMS RESOLUTION')
    expect(s.uniprot).toEqual(['P62988'])
    expect(s.chains.map(c => c.chainId)).toEqual(['A'])
    const a = s.chains[0]
    expect(a.sequence).toBe(UBIQUITIN)
    expect(a.residues[0]).toEqual({ seqNumber: 1, insCode: '', name: 'MET', code: 'M', ca: [26.266, 25.413, 2.842] })
    expect(a.residues.every(r => r.ca !== null)).toBe(true)
    expect(a.residues.map(r => r.seqNumber)).toEqual(Array.from({ length: 76 }, (_, i) => i + 1))
  })

  it('2HHB: α2β2, chains of 141 and 146 residues with the haemoglobin sequences', () => {
    const s = readStructure(read('2hhb.pdb'))
    expect(s.chains.map(c => [c.chainId, c.residues.length])).toEqual([
      ['A', 141],
      ['B', 146],
      ['C', 141],
      ['D', 146]
    ])
    expect(s.chains[0].sequence).toBe(HBA)
    expect(s.chains[1].sequence).toBe(HBB)
    expect(s.chains[2].sequence).toBe(HBA)
    expect(s.chains[0].residues[0].ca).toEqual([6.87, 17.784, 4.702])
    const lastB = s.chains[1].residues.at(-1)!
    expect([lastB.name, lastB.seqNumber, lastB.ca]).toEqual(['HIS', 146, [-6.965, -13.219, 13.7]])
  })

  it('1HPV: two protease chains of 99 residues, the ligand left out', () => {
    const s = readStructure(read('1hpv.pdb'))
    expect(s.chains.map(c => c.chainId)).toEqual(['A', 'B'])
    for (const c of s.chains) expect(c.sequence).toBe(HIV_PR)
  })

  it('zinc fingers: 1SP1 (29 residues) and 3ZNF (30), titles across continuation lines, DBREF accessions', () => {
    const sp1 = readStructure(read('1sp1.pdb'))
    expect(sp1.chains[0].residues).toHaveLength(29)
    expect(sp1.chains[0].residues[0].ca).toEqual([11.6, 4.367, -4.471])
    expect(sp1.title).toBe(
      'NMR STRUCTURE OF A ZINC FINGER DOMAIN FROM TRANSCRIPTION FACTOR SP1F3, MINIMIZED AVERAGE STRUCTURE'
    )
    expect(sp1.uniprot).toEqual(['P08047'])
    const znf = readStructure(read('3znf.pdb'))
    expect(znf.chains[0].residues).toHaveLength(30)
    expect(znf.uniprot).toEqual(['P15822'])
  })

  it('the project registry describes a structure through the same reader', () => {
    expect(describeStructureText(read('2hhb.pdb'), '2hhb.pdb').chains).toEqual(['A', 'B', 'C', 'D'])
    const cif = describeStructureText(toMmcif(read('1ubq.pdb'), 'Ubiquitin, "refined"'), '1ubq.cif')
    expect(cif).toEqual({ format: 'mmcif', title: 'Ubiquitin, "refined"', chains: ['A'], uniprot: ['P62988'] })
  })
})

describe('readStructure on mmCIF', () => {
  it('reads the same chains, residues and CA coordinates from 2HHB written as mmCIF (quoted values)', () => {
    const pdb = readStructure(read('2hhb.pdb'))
    const cif = readStructure(toMmcif(read('2hhb.pdb'), "Deoxy haemoglobin (it's a tetramer)"))
    expect(cif.format).toBe('mmcif')
    expect(cif.title).toBe("Deoxy haemoglobin (it's a tetramer)")
    expect(strip(cif.chains)).toEqual(strip(pdb.chains))
  })
})

const strip = (chains: StructureChain[]): unknown =>
  chains.map(c => ({ chainId: c.chainId, sequence: c.sequence, residues: c.residues }))

/**
 * A minimal mmCIF writer for the test: the ATOM/HETATM records of a PDB file as an _atom_site loop, every atom
 * name in double quotes, the title as a quoted _struct.title and the first DBREF as a one-row _struct_ref.
 */
function toMmcif(pdb: string, title: string): string {
  const out = [
    'data_TEST',
    '#',
    `_struct.title ${title.includes("'") ? `"${title}"` : `'${title}'`}`,
    '#',
    '_struct_ref.id 1',
    '_struct_ref.db_name UNP'
  ]
  const dbref = pdb.split('\n').find(l => l.startsWith('DBREF ') && l.slice(26, 32).trim() === 'UNP')
  out.push(`_struct_ref.pdbx_db_accession ${dbref ? dbref.slice(33, 41).trim() : '?'}`, '#', 'loop_')
  for (const c of [
    'group_PDB',
    'id',
    'label_atom_id',
    'label_alt_id',
    'label_comp_id',
    'label_asym_id',
    'Cartn_x',
    'Cartn_y',
    'Cartn_z',
    'auth_seq_id',
    'auth_comp_id',
    'auth_asym_id',
    'pdbx_PDB_ins_code',
    'pdbx_PDB_model_num'
  ])
    out.push(`_atom_site.${c}`)
  for (const l of pdb.split('\n')) {
    if (l.startsWith('ENDMDL')) break
    if (!l.startsWith('ATOM  ') && !l.startsWith('HETATM')) continue
    const f = (a: number, b: number, empty: string): string => l.slice(a, b).trim() || empty
    const comp = f(17, 20, '?')
    out.push(
      [
        l.slice(0, 6).trim(),
        f(6, 11, '?'),
        `"${f(12, 16, '?')}"`,
        f(16, 17, '.'),
        comp,
        f(21, 22, '?'),
        f(30, 38, '?'),
        f(38, 46, '?'),
        f(46, 54, '?'),
        f(22, 26, '?'),
        comp,
        f(21, 22, '?'),
        f(26, 27, '?'),
        '1'
      ].join(' ')
    )
  }
  out.push('#', '')
  return out.join('\n')
}
