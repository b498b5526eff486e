import { describe, expect, it } from 'vitest'
import { alignGlobal, scoreAlignment } from '../src/shared/alignment'
import { blosum62 } from '../src/renderer/src/lib/blosum62'
import { chooseChain, paintCheck, valuesOnChain } from '../src/shared/chain-mapping'
import { parseStructureChains } from '../src/shared/structure-reader'

// Hand-worked BLOSUM62 diagonal: W 11, C 9, H 8, M 5. "WCHW" = 39, "CWHM" = 33, "WCHWCWHM" = 72.
describe('alignGlobal (BLOSUM62, gap open 11, extend 1, free end gaps)', () => {
  it('aligns a sequence to itself with identity 1 and the identity mapping', () => {
    const a = alignGlobal('MKTAYIAK', 'MKTAYIAK')
    expect(a.score).toBe(5 + 5 + 5 + 4 + 7 + 4 + 4 + 5)
    expect(Array.from(a.queryToTarget)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    expect(a.identity).toBe(1)
    expect(a.coverage).toBe(1)
    expect(a.missing).toEqual([])
    expect(a.insertions).toEqual([])
  })

  it('finds residues missing from the structure (an internal gap of 4: 72 - (11 + 3) = 58)', () => {
    const a = alignGlobal('WCHWYIAKCWHM', 'WCHWCWHM')
    expect(a.score).toBe(58)
    expect(a.alignedQuery).toBe('WCHWYIAKCWHM')
    expect(a.alignedTarget).toBe('WCHW----CWHM')
    expect(Array.from(a.queryToTarget)).toEqual([0, 1, 2, 3, -1, -1, -1, -1, 4, 5, 6, 7])
    expect(a.missing).toEqual([4, 5, 6, 7])
    expect(a.identity).toBe(1)
    expect(a.coverage).toBeCloseTo(8 / 12, 12)
  })

  it('finds residues inserted in the structure (gap of 2: 72 - 12 = 60)', () => {
    const a = alignGlobal('WCHWCWHM', 'WCHWGGCWHM')
    expect(a.score).toBe(60)
    expect(Array.from(a.targetToQuery)).toEqual([0, 1, 2, 3, -1, -1, 4, 5, 6, 7])
    expect(a.insertions).toEqual([4, 5])
    expect(a.missing).toEqual([])
  })

  it('counts mismatches in the identity (M/L scores 2: 67 + 2 = 69, identity 7/8)', () => {
    const a = alignGlobal('WCHWCWHM', 'WCHWCWHL')
    expect(a.score).toBe(69)
    expect(a.matches).toBe(7)
    expect(a.identity).toBeCloseTo(7 / 8, 12)
  })

  it('does not charge end gaps by default, and charges them (11 + 2 = 13) when asked', () => {
    const free = alignGlobal('MSTWCHWCWHM', 'WCHWCWHM')
    expect(free.score).toBe(72)
    expect(free.missing).toEqual([0, 1, 2])
    expect(free.alignedTarget).toBe('---WCHWCWHM')
    const charged = alignGlobal('MSTWCHWCWHM', 'WCHWCWHM', { penalizeEndGaps: true })
    expect(charged.score).toBe(72 - 13)
    expect(charged.missing).toEqual([0, 1, 2])
  })

  it('handles empty sequences', () => {
    expect(alignGlobal('', '').score).toBe(0)
    const a = alignGlobal('MKV', '')
    expect(a.missing).toEqual([0, 1, 2])
    expect(a.identity).toBe(0)
    const b = alignGlobal('', 'MKV')
    expect(b.insertions).toEqual([0, 1, 2])
  })

  it('rejects non-positive gap costs', () => {
    expect(() => alignGlobal('A', 'A', { gapOpen: 0 })).toThrow(/gap costs must be positive/)
  })

  // Independent reference: enumerate every alignment of two short sequences and score it by gap runs.
  function bestByEnumeration(q: string, t: string, open: number, extend: number, freeEnds: boolean): number {
    let best = -Infinity
    const walk = (i: number, j: number, rowQ: string, rowT: string): void => {
      if (i === q.length && j === t.length) {
        best = Math.max(best, scoreByRuns(rowQ, rowT, open, extend, freeEnds))
        return
      }
      if (i < q.length && j < t.length) walk(i + 1, j + 1, rowQ + q[i], rowT + t[j])
      if (i < q.length) walk(i + 1, j, rowQ + q[i], rowT + '-')
      if (j < t.length) walk(i, j + 1, rowQ + '-', rowT + t[j])
    }
    walk(0, 0, '', '')
    return best
  }
  function scoreByRuns(rowQ: string, rowT: string, open: number, extend: number, freeEnds: boolean): number {
    let s = 0
    for (let k = 0; k < rowQ.length; k++) if (rowQ[k] !== '-' && rowT[k] !== '-') s += blosum62(rowQ[k], rowT[k])
    for (const row of [rowQ, rowT]) {
      const runs = [...row.matchAll(/-+/g)]
      for (const run of runs) {
        const start = run.index ?? 0
        const end = start + run[0].length
        const atEnd = start === 0 || end === row.length
        if (freeEnds && atEnd) continue
        s -= open + (run[0].length - 1) * extend
      }
    }
    return s
  }

  it('matches exhaustive enumeration of all alignments on random short sequences', () => {
    let seed = 7
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const letters = 'ACDEFGHIKLMNPQRSTVWY'
    const randomSeq = (len: number): string =>
      Array.from({ length: len }, () => letters[Math.floor(rand() * 20)]).join('')
    for (let trial = 0; trial < 60; trial++) {
      const q = randomSeq(1 + Math.floor(rand() * 6))
      const t = randomSeq(1 + Math.floor(rand() * 6))
      const open = [11, 4, 2][trial % 3]
      const extend = [1, 1, 2][trial % 3]
      const freeEnds = trial % 2 === 0
      const a = alignGlobal(q, t, { gapOpen: open, gapExtend: extend, penalizeEndGaps: !freeEnds })
      expect(a.score, `${q} vs ${t}`).toBe(bestByEnumeration(q, t, open, extend, freeEnds))
      // The returned rows realise the score and spell the inputs.
      expect(scoreByRuns(a.alignedQuery, a.alignedTarget, open, extend, freeEnds)).toBe(a.score)
      expect(
        scoreAlignment(a.alignedQuery, a.alignedTarget, {
          gapOpen: open,
          gapExtend: extend,
          penalizeEndGaps: !freeEnds
        })
      ).toBe(a.score)
      expect(a.alignedQuery.replaceAll('-', '')).toBe(q)
      expect(a.alignedTarget.replaceAll('-', '')).toBe(t)
    }
  })

  it('aligns a 1,000-residue protein to a chain with a gap in reasonable memory', () => {
    let seed = 3
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff
    const letters = 'ACDEFGHIKLMNPQRSTVWY'
    const q = Array.from({ length: 1000 }, () => letters[Math.floor(rand() * 20)]).join('')
    const t = q.slice(20, 400) + q.slice(430, 980)
    const a = alignGlobal(q, t)
    expect(a.identity).toBe(1)
    expect(a.alignedPairs).toBe(t.length)
    expect(a.queryToTarget[20]).toBe(0)
    expect(a.queryToTarget[429]).toBe(-1)
    expect(a.queryToTarget[430]).toBe(380)
  })
})

// A small hand-made PDB: chain A has residues 1-6 with 3 absent (a missing loop), an alternate location,
// a selenomethionine HETATM, a water; chain B is a different sequence.
const PDB = [
  'SEQRES   1 A    6  MET LYS TRP CYS HIS TRP',
  'SEQRES   1 B    4  GLY SER GLY SER',
  atom('ATOM  ', 1, ' N  ', 'MET', 'A', 1),
  atom('ATOM  ', 2, ' CA ', 'MET', 'A', 1),
  atom('ATOM  ', 3, ' CA ', 'LYS', 'A', 2),
  atom('ATOM  ', 4, ' CA ', 'CYS', 'A', 4, 'A'),
  atom('ATOM  ', 5, ' CA ', 'CYS', 'A', 4, 'B'),
  atom('HETATM', 6, ' CA ', 'MSE', 'A', 5),
  atom('ATOM  ', 7, ' CA ', 'TRP', 'A', 6),
  atom('ATOM  ', 8, ' CA ', 'GLY', 'B', 1),
  atom('ATOM  ', 9, ' CA ', 'SER', 'B', 2),
  atom('ATOM  ', 10, ' CA ', 'SER', 'B', 2, ' ', 'A'),
  atom('HETATM', 11, ' O  ', 'HOH', 'A', 101),
  'ENDMDL',
  atom('ATOM  ', 12, ' CA ', 'ALA', 'C', 1)
].join('\n')

function atom(
  rec: string,
  serial: number,
  name: string,
  res: string,
  chain: string,
  seq: number,
  alt = ' ',
  ins = ' '
): string {
  return (
    `${rec}${String(serial).padStart(5)} ${name}${alt}${res} ${chain}${String(seq).padStart(4)}${ins}   ` +
    '  11.104   6.134  -6.504  1.00  0.00           C'
  )
}

const CIF = `data_TEST
#
loop_
_entity_poly_seq.entity_id
_entity_poly_seq.num
_entity_poly_seq.mon_id
_entity_poly_seq.hetero
1 1 MET n
1 2 LYS n
1 3 TRP n
1 4 CYS n
#
loop_
_atom_site.group_PDB
_atom_site.id
_atom_site.type_symbol
_atom_site.label_atom_id
_atom_site.label_alt_id
_atom_site.label_comp_id
_atom_site.label_asym_id
_atom_site.label_entity_id
_atom_site.label_seq_id
_atom_site.pdbx_PDB_ins_code
_atom_site.Cartn_x
_atom_site.Cartn_y
_atom_site.Cartn_z
_atom_site.auth_seq_id
_atom_site.auth_comp_id
_atom_site.auth_asym_id
_atom_site.pdbx_PDB_model_num
ATOM 1 N N . MET A 1 1 ? 0 0 0 1 MET A 1
ATOM 2 C CA . MET A 1 1 ? 0 0 0 1 MET A 1
ATOM 3 C CA . LYS A 1 2 ? 0 0 0 2 LYS A 1
ATOM 4 C CA . CYS A 1 4 ? 0 0 0 4 CYS A 1
HETATM 5 O O . HOH B 2 . ? 0 0 0 7 HOH A 1
ATOM 6 C CA . TRP A 1 3 ? 0 0 0 3 TRP A 2
#
`

describe('structure chain sequences', () => {
  it('reads PDB ATOM/HETATM residues (first model, first altloc, modified residues, no water) and SEQRES', () => {
    const chains = parseStructureChains(PDB)
    expect(chains.map(c => c.chainId)).toEqual(['A', 'B'])
    expect(chains[0].sequence).toBe('MKCMW')
    expect(chains[0].residues.map(r => r.seqNumber)).toEqual([1, 2, 4, 5, 6])
    expect(chains[0].residues[3].name).toBe('MSE')
    expect(chains[0].seqres).toBe('MKWCHW')
    expect(chains[1].sequence).toBe('GSS')
    expect(chains[1].residues.map(r => `${r.seqNumber}${r.insCode}`)).toEqual(['1', '2', '2A'])
  })

  it('reads mmCIF _atom_site (auth ids, first model) and _entity_poly_seq', () => {
    const chains = parseStructureChains(CIF)
    expect(chains).toHaveLength(1)
    expect(chains[0].chainId).toBe('A')
    expect(chains[0].sequence).toBe('MKC')
    expect(chains[0].seqres).toBe('MKWC')
  })

  it('explains a CIF without coordinates', () => {
    expect(() => parseStructureChains('data_X\n_cell.length_a 1\n', 'mmcif')).toThrow(/no _atom_site loop/)
  })
})

describe('chooseChain and valuesOnChain', () => {
  const chains = parseStructureChains(PDB)
  it('chooses the chain that matches the sequence and maps values through the missing loop', () => {
    const choice = chooseChain('MKWCMW', chains)
    expect(choice.best?.chainId).toBe('A')
    const a = choice.best!.alignment
    expect(a.missing).toEqual([2]) // the W at 3 has no coordinates
    expect(a.identity).toBe(1)
    const onChain = valuesOnChain([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], a)
    expect(onChain).toEqual([0.1, 0.2, 0.4, 0.5, 0.6])
    expect(() => valuesOnChain([1, 2], a)).toThrow(/2 values for a sequence of 6/)
  })
  it('prefers the first of identical chains and returns null when nothing matches', () => {
    const dimer = [
      { ...chains[0], chainId: 'A' },
      { ...chains[0], chainId: 'B' }
    ]
    expect(chooseChain('MKWCMW', dimer).best?.chainId).toBe('A')
    expect(chooseChain('PPPP', [chains[1]]).best).toBeNull()
  })
})

describe('paintCheck: whether a sequence may be painted onto a chain', () => {
  const HBB =
    'MVHLTPEEKSAVTALWGKVNVDEVGGEALGRLLVVYPWTQRFFESFGDLSTPDAVMGNPKVKAHGKKVLGAFSDGLAHLDNLKGTFATLSELHCDKLHVDPENFRLLGNVLVCVLAHHFGKEFTPPVQAAYQKVVAGVANALAHKYH'
  const UBQ = 'MQIFVKTLTGKTITLEVEPSDTIENVKAKIQDKEGIPPDQQRLIFAGKQLEDGRTLSDYNIQKESTLHLVLRLRGG'

  it('refuses haemoglobin β on ubiquitin, with the numbers computed from the alignment', () => {
    const a = alignGlobal(HBB, UBQ)
    const c = paintCheck(a, HBB.length, UBQ.length)
    expect(c.ok).toBe(false)
    expect(c.identity).toBe(a.matches / a.alignedPairs)
    expect(c.overlap).toBeCloseTo(a.alignedPairs / UBQ.length, 12)
    expect(c.reason).toMatch(/identity \d+% is below 30%|cover \d+% of the shorter sequence/)
  })

  it('accepts a protein on its own structure, also a domain structure of a longer protein', () => {
    expect(paintCheck(alignGlobal(HBB, HBB.slice(1)), HBB.length, HBB.length - 1)).toMatchObject({
      ok: true,
      reason: ''
    })
    const domain = UBQ.slice(10, 50)
    const c = paintCheck(alignGlobal(UBQ, domain), UBQ.length, domain.length)
    expect(c).toMatchObject({ ok: true, identity: 1, overlap: 1 })
  })

  it('names both shortfalls at once', () => {
    const fake = { alignedPairs: 5, identity: 0.2 } as ReturnType<typeof alignGlobal>
    expect(paintCheck(fake, 100, 80).reason).toBe(
      'identity 20% is below 30%; 5 aligned residues cover 6% of the shorter sequence, below 50%'
    )
  })
})
