import { afterAll, describe, expect, it } from 'vitest'
import { readFileSync, writeFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { readUniProt, type UniProtEntry } from '../src/main/engine/io/uniprot'
import {
  BadRecordError,
  detectProteinFormat,
  parseFastaHeader,
  readProteinInput,
  readProteins
} from '../src/main/engine/io/protein-input'
import type { BadRecordReport } from '../src/shared/store-types'
import { tempDir } from './helpers/tmp'

const SWISSPROT_2012 = new URL('../../shared/data/sequences/swissprot-100.dat', import.meta.url).pathname
const CURRENT = new URL('./fixtures/uniprot-current.dat', import.meta.url).pathname
const tmp = tempDir('uniprot')
afterAll(() => tmp.cleanup())

async function readAll(path: string): Promise<{ entries: UniProtEntry[]; bad: BadRecordReport[] }> {
  const entries: UniProtEntry[] = []
  const bad: BadRecordReport[] = []
  for await (const it of readUniProt(path)) {
    if (it.kind === 'entry') entries.push(it.entry)
    else bad.push(it.report)
  }
  return { entries, bad }
}

describe('UniProt flat file, old column FT format (Swiss-Prot 2012 entries)', () => {
  it('reads all 100 entries and every FT feature, with sequences matching the SQ lines', async () => {
    const { entries, bad } = await readAll(SWISSPROT_2012)
    expect(bad).toEqual([])
    // independent counts straight from the text
    const text = readFileSync(SWISSPROT_2012, 'utf8')
    const blocks = text.split(/^\/\/$/m).filter(b => b.trim().length > 0)
    expect(entries.length).toBe(100)
    expect(blocks.length).toBe(100)
    blocks.forEach((block, i) => {
      const sqLen = Number(/^SQ {3}SEQUENCE +(\d+) AA;/m.exec(block)![1])
      const seq = block.slice(block.search(/^SQ /m)).split('\n').slice(1).join('').replace(/\s+/g, '')
      const ftKeys = block.split('\n').filter(l => /^FT {3}\S/.test(l)).length
      expect(entries[i].sequence.length).toBe(sqLen)
      expect(entries[i].sequence).toBe(seq)
      // every feature has known positions in this file, so none is dropped
      expect(entries[i].annotations.length).toBe(ftKeys)
    })
    expect(entries.reduce((a, e) => a + e.annotations.length, 0)).toBe(2070)
  })

  it('gets names, organisms and features right (checked by hand)', async () => {
    const { entries } = await readAll(SWISSPROT_2012)
    const byName = new Map(entries.map(e => [e.entryName, e]))
    const cru4 = byName.get('CRU4_ARATH')!
    expect(cru4.accessions).toEqual(['P15455', 'Q3E711', 'Q56Z11', 'Q9FFH7'])
    expect(cru4.fullName).toBe('12S seed storage protein CRU4')
    expect(cru4.organism).toBe('Arabidopsis thaliana (Mouse-ear cress)')
    expect(cru4.sequence.slice(0, 10)).toBe('MARVSSLLSF')
    expect(cru4.annotations[0]).toEqual({
      type: 'signal_peptide',
      start: 1,
      end: 24,
      description: 'By similarity.',
      key: 'SIGNAL'
    })
    expect(cru4.annotations.filter(a => a.type === 'disulfide_bond')).toEqual([
      { type: 'disulfide_bond', start: 36, end: 69, pairwise: true, description: 'By similarity.', key: 'DISULFID' },
      {
        type: 'disulfide_bond',
        start: 112,
        end: 289,
        pairwise: true,
        description: 'Interchain (between alpha and beta chains) (Potential).',
        key: 'DISULFID'
      }
    ])
    expect(cru4.annotations.find(a => a.key === 'CHAIN')!.description).toBe(
      '12S seed storage protein CRU4 alpha chain (By similarity).'
    )
    const htr = byName.get('5HT1D_TAKRU')!
    expect(htr.organism).toBe('Takifugu rubripes (Japanese pufferfish) (Fugu rubripes)')
    const tm = htr.annotations.filter(a => a.type === 'transmembrane')
    expect(tm.length).toBe(7)
    expect(tm[0]).toMatchObject({ start: 37, end: 60, description: 'Helical; Name=1; (By similarity).' })
    expect(htr.annotations.filter(a => a.type === 'topological_domain').length).toBe(8)
    const bgal = byName.get('BGAL_ECOLI')!
    expect(bgal.sequence.length).toBe(1024)
    expect(bgal.annotations.filter(a => a.type === 'active_site').map(a => [a.start, a.description])).toEqual([
      [462, 'Proton donor.'],
      [538, 'Nucleophile.']
    ])
    expect(bgal.annotations.find(a => a.type === 'metal' && a.start === 602)!.description).toBe(
      'Sodium; via carbonyl oxygen.'
    )
    expect(bgal.annotations.filter(a => a.type === 'helix').length).toBeGreaterThan(10)
    const ubr5 = byName.get('UBR5_RAT')!
    expect(ubr5.annotations.find(a => a.type === 'zinc_finger')).toMatchObject({
      start: 1166,
      end: 1234,
      description: 'UBR-type.'
    })
    expect(byName.get('FLS_MATIN')!.annotations.find(a => a.key === 'CHAIN')).toMatchObject({
      start: 1,
      end: 291,
      startUncertain: true,
      description: 'Flavonol synthase/flavanone 3-hydroxylase.'
    })
    expect(byName.get('FLAV_NOSSM')!.annotations.find(a => a.key === 'CHAIN')).toMatchObject({
      start: 1,
      end: 35,
      endUncertain: true
    })
  })

  it('reads the same from a gzipped copy', async () => {
    const gz = `${tmp.dir}/sp.dat.gz`
    writeFileSync(gz, gzipSync(readFileSync(SWISSPROT_2012)))
    const a = await readAll(gz)
    expect(a.entries.length).toBe(100)
    expect(a.entries[99]).toEqual((await readAll(SWISSPROT_2012)).entries[99])
  })
})

describe('UniProt flat file, current "start..end" FT format', () => {
  it('parses locations, qualifiers, uncertain positions and skips other-isoform features', async () => {
    const { entries } = await readAll(CURRENT)
    const ins = entries[0]
    expect(ins.entryName).toBe('INS_HUMAN')
    expect(ins.accessions).toEqual(['P01308', 'Q5EEX2'])
    expect(ins.fullName).toBe('Insulin')
    expect(ins.organism).toBe('Homo sapiens (Human)')
    expect(ins.sequence.length).toBe(110)
    const a = ins.annotations
    expect(a.find(x => x.key === 'SIGNAL')).toEqual({
      type: 'signal_peptide',
      start: 1,
      end: 24,
      description: '',
      key: 'SIGNAL'
    })
    expect(a.find(x => x.key === 'PEPTIDE')).toMatchObject({ start: 25, end: 54, description: 'Insulin B chain' })
    expect(a.filter(x => x.type === 'disulfide_bond')).toEqual([
      {
        type: 'disulfide_bond',
        start: 31,
        end: 96,
        pairwise: true,
        description: 'Interchain (between B and A chains)',
        key: 'DISULFID'
      },
      { type: 'disulfide_bond', start: 95, end: 100, pairwise: true, description: '', key: 'DISULFID' }
    ])
    expect(a.find(x => x.type === 'helix')).toMatchObject({ start: 33, end: 43 })
    expect(a.find(x => x.type === 'strand')).toMatchObject({ start: 48, end: 50 })
    expect(a.find(x => x.type === 'turn')).toBeUndefined() // "?..22": start unknown, cannot be placed
    expect(a.find(x => x.type === 'region')!.description).toBe(
      'Disordered; a note that is long enough to wrap onto a second line in the flat file'
    )
    expect(a.find(x => x.type === 'binding_site')).toMatchObject({
      start: 44,
      end: 44,
      description: 'Zn(2+); ligand shared between dimeric partners'
    })
    expect(a.find(x => x.type === 'modified_residue')).toMatchObject({
      start: 1,
      end: 2,
      startUncertain: true,
      description: 'Blocked amino end'
    })
    expect(a.find(x => x.type === 'splice_variant')).toBeUndefined() // on isoform P01308-2
    expect(a.find(x => x.type === 'conflict')).toMatchObject({ start: 100, end: 110, startUncertain: true })
    const zn = entries[1]
    expect(zn.fullName).toBe('Zinc finger test protein')
    expect(zn.annotations.map(x => [x.type, x.start, x.end, x.description])).toEqual([
      ['zinc_finger', 6, 28, 'C2H2-type 1'],
      ['zinc_finger', 34, 56, 'C2H2-type 2'],
      ['transmembrane', 30, 60, 'Helical']
    ])
  })

  it('reports bad records with file, line and id, and goes on with the next entry', async () => {
    const { entries, bad } = await readAll(CURRENT)
    expect(entries.map(e => e.entryName)).toEqual(['INS_HUMAN', 'ZN_TEST', 'GOOD_AFTER'])
    expect(bad.length).toBe(2)
    const lines = readFileSync(CURRENT, 'utf8').split('\n')
    expect(bad[0]).toMatchObject({ file: CURRENT, id: 'Q00002' })
    expect(lines[bad[0].line - 1]).toBe('FT   HELIX           10..40')
    expect(bad[0].message).toMatch(/10\.\.40.*outside its sequence of 22 residues/)
    expect(bad[1]).toMatchObject({ id: 'Q00003' })
    expect(bad[1].message).toMatch(/22 residues.*25/)
  })

  it('reports a truncated file and an FT line it cannot read', async () => {
    const path = `${tmp.dir}/broken.dat`
    const text = readFileSync(CURRENT, 'utf8')
    writeFileSync(
      path,
      text
        .replace('FT   STRAND          48..50', 'FT   STRAND          48..fifty')
        .slice(0, text.indexOf('ID   ZN_TEST') + 60)
    )
    const { entries, bad } = await readAll(path)
    expect(entries).toEqual([])
    expect(bad.map(b => b.id)).toEqual(['P01308', 'ZN_TEST']) // cut before its AC line: the entry name identifies it
    expect(bad[0].message).toMatch(/cannot read the location "48\.\.fifty"/)
    expect(bad[1].message).toMatch(/ends inside entry ZN_TEST/)
  })
})

describe('protein input: FASTA and UniProt behind one reader', () => {
  it('accepts files that start with a UTF-8 byte-order mark (FASTA and UniProt, plain and gzipped)', async () => {
    const fasta = `${tmp.dir}/bom.fasta`
    writeFileSync(fasta, '\uFEFF>sp|P69905|HBA_HUMAN Hemoglobin\nMVLSPADKTN\n')
    expect(await detectProteinFormat(fasta)).toBe('fasta')
    const got = []
    for await (const r of readProteins(fasta, { policy: 'stop' })) got.push([r.accession, r.sequence])
    expect(got).toEqual([['P69905', 'MVLSPADKTN']])
    const dat = `${tmp.dir}/bom.dat.gz`
    writeFileSync(dat, gzipSync(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(CURRENT)])))
    expect(await detectProteinFormat(dat)).toBe('uniprot')
    const accessions = []
    for await (const r of readProteins(dat, { policy: 'skip' })) accessions.push(r.accession)
    expect(accessions).toEqual(['P01308', 'Q00001', 'Q00004'])
  })

  it('detects the format from content and reads both into the same records', async () => {
    const fasta = `${tmp.dir}/in.txt`
    writeFileSync(
      fasta,
      '>sp|P69905|HBA_HUMAN Hemoglobin subunit alpha OS=Homo sapiens OX=9606 GN=HBA1 PE=1 SV=2\nMVLSPADKTN\nVKAAWGKVGA\n>plain some words\nmkv\n>bad\nMK*V\n'
    )
    expect(await detectProteinFormat(fasta)).toBe('fasta')
    expect(await detectProteinFormat(CURRENT)).toBe('uniprot')
    const items = []
    for await (const it of readProteinInput(fasta)) items.push(it)
    expect(items[0]).toEqual({
      kind: 'protein',
      record: {
        accession: 'P69905',
        name: 'HBA_HUMAN',
        organism: 'Homo sapiens',
        description: 'Hemoglobin subunit alpha',
        sequence: 'MVLSPADKTNVKAAWGKVGA',
        annotations: [],
        file: fasta,
        line: 1
      }
    })
    expect(items[1]).toMatchObject({
      kind: 'protein',
      record: { accession: 'plain', description: 'some words', sequence: 'MKV', line: 4 }
    })
    expect(items[2]).toMatchObject({ kind: 'bad', report: { file: fasta, line: 6, id: 'bad' } })
    const skipped: BadRecordReport[] = []
    const got = []
    for await (const r of readProteins(CURRENT, { policy: 'skip', onBadRecord: b => skipped.push(b) }))
      got.push(r.accession)
    expect(got).toEqual(['P01308', 'Q00001', 'Q00004'])
    expect(skipped.map(s => s.id)).toEqual(['Q00002', 'Q00003'])
    const stop = async () => {
      for await (const r of readProteins(CURRENT, { policy: 'stop' })) void r
    }
    await expect(stop()).rejects.toThrow(BadRecordError)
    await expect(stop()).rejects.toThrow(/uniprot-current\.dat:\d+: bad record "Q00002"/)
    expect(
      parseFastaHeader('tr|W0FSK4|W0FSK4_9FLAV', 'Genome polyprotein (Fragment) OS=Dengue virus 3 PE=4 SV=1 Split=0')
    ).toEqual({
      accession: 'W0FSK4',
      name: 'W0FSK4_9FLAV',
      organism: 'Dengue virus 3',
      description: 'Genome polyprotein (Fragment)'
    })
  })
})
