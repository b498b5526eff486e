import { describe, expect, it } from 'vitest'
import {
  countRecords,
  parsePastedRecords,
  pastedRecordsNote,
  proteinFormatOfLine,
  RecordCounter,
  singlePastedRecord,
  sniffProteinFormat
} from '../src/shared/sequence-text'
import { ClientError } from '../src/main/workbench/errors'
import { sequenceFromText } from '../src/main/workbench/pasted-sequences'

describe('parsePastedRecords', () => {
  it('reads a bare sequence (spaces, newlines, lower case, a final stop)', () => {
    expect(parsePastedRecords('mkta yiak\nQRQ*\n')).toEqual({
      records: [{ name: 'pasted sequence', sequence: 'MKTAYIAKQRQ' }]
    })
  })
  it('reads every FASTA record and its id', () => {
    expect(parsePastedRecords('>sp|P69905|HBA_HUMAN Hemoglobin\nMVLS\nPADK\n>second\nAAAA\n')).toEqual({
      records: [
        { name: 'sp|P69905|HBA_HUMAN', sequence: 'MVLSPADK' },
        { name: 'second', sequence: 'AAAA' }
      ]
    })
  })
  it('ignores a UTF-8 byte-order mark', () => {
    expect(parsePastedRecords('\uFEFF>x\nMKV\n')).toEqual({ records: [{ name: 'x', sequence: 'MKV' }] })
  })
  it('says what is wrong and where', () => {
    expect(parsePastedRecords('  \n')).toEqual({ error: 'Paste a protein sequence or a FASTA record.' })
    expect(parsePastedRecords('>x\nMKT1A')).toEqual({
      error: 'Not a protein sequence: “1” at position 4. Use one-letter amino-acid codes.'
    })
    expect(parsePastedRecords('>a\nMKV\n>b\nMK2')).toEqual({
      error: 'Not a protein sequence: “2” at position 3 in b. Use one-letter amino-acid codes.'
    })
  })
})

describe('one paste, one rule for several records', () => {
  it('skips FASTA comment lines', () => {
    expect(parsePastedRecords(';a comment\n>x\nMKV\n')).toEqual({ records: [{ name: 'x', sequence: 'MKV' }] })
  })
  it('gives the one record of a paste where one is needed, and refuses several naming how many', () => {
    expect(singlePastedRecord('\uFEFF>only\nmkv\n')).toEqual({ record: { name: 'only', sequence: 'MKV' } })
    expect(singlePastedRecord('>a\nMKV\n>b\nMKV\n>c\nAA\n')).toEqual({
      error: 'The pasted text has 3 FASTA records: paste one sequence at a time (or index them all as a project).'
    })
    expect(singlePastedRecord('')).toEqual({ error: 'Paste a protein sequence or a FASTA record.' })
  })
  it('says which record of several is shown', () => {
    const records = [
      { name: 'first_one', sequence: 'MKV' },
      { name: 'second_one', sequence: 'AAA' }
    ]
    expect(pastedRecordsNote(records)).toBe('2 FASTA records pasted; showing the first, first_one')
    expect(pastedRecordsNote(records, 1)).toBe('2 FASTA records pasted; showing record 2, second_one')
  })
})

describe('the service, asked for one sequence', () => {
  it('takes the one record of a paste (byte-order mark, header, lower case) and refuses several, with a client error', () => {
    expect(sequenceFromText('\uFEFF>x desc\nmkv\nla\n')).toBe('MKVLA')
    expect(sequenceFromText('MKV LA*')).toBe('MKVLA')
    expect(() => sequenceFromText('>a\nMKV\n>b\nMKV\n')).toThrow(
      'The pasted text has 2 FASTA records: paste one sequence at a time (or index them all as a project).'
    )
    expect(() => sequenceFromText('>a\nMKV\n>b\nMKV\n')).toThrow(ClientError)
    expect(() => sequenceFromText('MK1')).toThrow(/Not a protein sequence: “1” at position 3/)
    expect(() => sequenceFromText('MKVL', 3)).toThrow(/The sequence has 4 residues; at most 3 can be analysed live/)
  })
})

describe('format sniffing and record counting', () => {
  const uniprot = [
    'ID   A_HUMAN   Reviewed;   5 AA.',
    'AC   P00001;',
    'SQ   SEQUENCE   5 AA;  600 MW;  0 CRC64;',
    '     MKVLA',
    '//',
    'ID   B_HUMAN   Reviewed;   3 AA.',
    'SQ   SEQUENCE   3 AA;  300 MW;  0 CRC64;',
    '     MKV',
    '//',
    ''
  ].join('\n')
  it('tells FASTA from UniProt by the first non-empty line, a byte-order mark ignored', () => {
    expect(proteinFormatOfLine('>sp|P1|X')).toBe('fasta')
    expect(proteinFormatOfLine('\uFEFF>x')).toBe('fasta')
    expect(proteinFormatOfLine('ID   A_HUMAN')).toBe('uniprot')
    expect(proteinFormatOfLine('ID A_HUMAN')).toBeUndefined()
    expect(proteinFormatOfLine('MKVLA')).toBeUndefined()
    expect(sniffProteinFormat('\n\n>x\nMKV')).toBe('fasta')
    expect(sniffProteinFormat(`\uFEFF${uniprot}`)).toBe('uniprot')
    expect(sniffProteinFormat('MKVLA\n')).toBeUndefined()
    expect(sniffProteinFormat('')).toBeUndefined()
  })
  it('counts records and residues of both formats', () => {
    expect(countRecords('\uFEFF>a\nMKV\n>b\nAA\n\n>c\nM\n')).toBe(3)
    expect(countRecords(uniprot)).toBe(2)
    expect(countRecords(uniprot, 'uniprot')).toBe(2)
    expect(countRecords(uniprot, 'fasta')).toBe(0)
    expect(countRecords('')).toBe(0)
    const fasta = new RecordCounter()
    for (const line of ['', '>a desc', 'MKV LA', 'AA', '>b', 'M']) fasta.add(line)
    expect([fasta.records, fasta.residues]).toEqual([2, 8])
    const up = new RecordCounter()
    for (const line of uniprot.split('\n')) up.add(line)
    expect([up.records, up.residues]).toEqual([2, 8])
  })
})
