import { describe, expect, it } from 'vitest'
import { parsePastedRecords } from '../src/renderer/src/lib/sequence-input'

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
