import { describe, expect, it } from 'vitest'
import { parsePastedSequence } from '../src/renderer/src/lib/sequence-input'

describe('parsePastedSequence', () => {
  it('reads a bare sequence (spaces, newlines, lower case, a final stop)', () => {
    expect(parsePastedSequence('mkta yiak\nQRQ*\n')).toEqual({ name: 'pasted sequence', sequence: 'MKTAYIAKQRQ' })
  })
  it('reads the first FASTA record and its id', () => {
    expect(parsePastedSequence('>sp|P69905|HBA_HUMAN Hemoglobin\nMVLS\nPADK\n>second\nAAAA\n')).toEqual({ name: 'sp|P69905|HBA_HUMAN', sequence: 'MVLSPADK' })
  })
  it('says what is wrong and where', () => {
    expect(parsePastedSequence('  \n')).toEqual({ error: 'Paste a protein sequence or a FASTA record.' })
    expect(parsePastedSequence('>x\nMKT1A')).toEqual({ error: 'Not a protein sequence: “1” at position 4. Use one-letter amino-acid codes.' })
  })
})
