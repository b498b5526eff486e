import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { ESM_VOCAB, checkVocabulary, detokenize, tokenize } from '../src/main/engine/esm/alphabet'
import { ESM2_TEMPLATE_DIR } from './fixtures/esm2-checkpoint'
import { join } from 'node:path'

describe('ESM alphabet', () => {
  it('is the vocabulary of the real ESM2 checkpoint, in order', () => {
    const real = readFileSync(join(ESM2_TEMPLATE_DIR, 'vocab.txt'), 'utf8').split(/\r?\n/).filter(Boolean)
    expect(real).toEqual([...ESM_VOCAB])
    expect(() => checkVocabulary(real.join('\n'), 'vocab.txt')).not.toThrow()
    expect(() => checkVocabulary(real.slice(0, 30).join('\n'), 'x/vocab.txt')).toThrow(
      /x\/vocab.txt.*not the ESM alphabet/
    )
  })

  it('wraps residues in <cls> … <eos>, case-insensitively', () => {
    expect(Array.from(tokenize('MKtA', 's'))).toEqual([0, 20, 15, 11, 5, 2])
    expect(detokenize(tokenize('mkta', 's'))).toBe('MKTA')
  })

  it('accepts the literal <mask> inside a sequence, in any case', () => {
    expect(Array.from(tokenize('A<mask>C<MASK>', 's'))).toEqual([0, 5, 32, 23, 32, 2])
  })

  it('rejects characters outside the alphabet, naming the sequence, the position and the character', () => {
    expect(() => tokenize('ACDJ', 'P12345')).toThrow(
      /sequence "P12345": character "J" at residue 4 is not in the ESM alphabet/
    )
    expect(() => tokenize('AC<mask>*', 'q')).toThrow(/"\*" at residue 4 .*stop codon/)
    expect(() => tokenize('AC<unk>', 'q')).toThrow(/"<" at residue 3/)
    expect(() => tokenize('', 'empty')).toThrow(/empty/)
  })

  it('ignores whitespace inside a sequence', () => {
    expect(Array.from(tokenize('A C\tD', 's'))).toEqual([0, 5, 23, 13, 2])
  })
})
