/**
 * The ESM alphabet (33 tokens, the order of `vocab.txt` of facebook/esm2_*) and the tokenizer:
 * `<cls>` + residues + `<eos>`, case-insensitive, with the literal `<mask>` allowed inside a sequence.
 */

export const ESM_VOCAB = [
  '<cls>',
  '<pad>',
  '<eos>',
  '<unk>',
  'L',
  'A',
  'G',
  'V',
  'S',
  'E',
  'R',
  'T',
  'I',
  'D',
  'P',
  'K',
  'Q',
  'N',
  'F',
  'Y',
  'M',
  'H',
  'W',
  'C',
  'X',
  'B',
  'U',
  'Z',
  'O',
  '.',
  '-',
  '<null_1>',
  '<mask>'
] as const

export const CLS_ID = 0
export const PAD_ID = 1
export const EOS_ID = 2
export const UNK_ID = 3
export const MASK_ID = 32
export const VOCAB_SIZE = ESM_VOCAB.length

/** The 20 standard amino acids, in the alphabet's order. */
export const STANDARD_AMINO_ACIDS = 'LAGVSERTIDPKQNFYMHWC'

const SINGLE_CHAR_ID = new Map<string, number>()
ESM_VOCAB.forEach((tok, id) => {
  if (tok.length === 1) SINGLE_CHAR_ID.set(tok, id)
})

const MASK_LITERAL = '<mask>'

export class SequenceError extends Error {
  constructor(
    message: string,
    readonly sequenceId: string,
    readonly position?: number
  ) {
    super(message)
    this.name = 'SequenceError'
  }
}

/**
 * Checks a vocabulary file against the built-in alphabet; a checkpoint with another vocabulary would
 * silently produce nonsense, so it is refused.
 */
export function checkVocabulary(vocabText: string, file: string): void {
  const tokens = vocabText.split(/\r?\n/).filter(t => t.length > 0)
  const same = tokens.length === ESM_VOCAB.length && tokens.every((t, i) => t === ESM_VOCAB[i])
  if (!same) {
    const firstDiff = tokens.findIndex((t, i) => t !== ESM_VOCAB[i])
    throw new Error(
      `${file}: this vocabulary is not the ESM alphabet (${tokens.length} tokens; first difference at line ${firstDiff + 1}: ` +
        `"${tokens[firstDiff] ?? '(end of file)'}" where "${ESM_VOCAB[firstDiff] ?? '(end)'}" was expected). Only ESM2 checkpoints are supported.`
    )
  }
}

/**
 * Residue tokens of a sequence, without `<cls>`/`<eos>`. Whitespace is ignored; `<mask>` is one token;
 * any other character outside the alphabet is an error naming the sequence, the 1-based residue position
 * and the character.
 */
export function residueTokens(sequence: string, sequenceId: string): Int32Array {
  const out = new Int32Array(sequence.length)
  let n = 0
  for (let i = 0; i < sequence.length; i++) {
    const ch = sequence[i]
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') continue
    if (ch === '<') {
      if (sequence.substr(i, MASK_LITERAL.length).toLowerCase() === MASK_LITERAL) {
        out[n++] = MASK_ID
        i += MASK_LITERAL.length - 1
        continue
      }
    }
    const id = SINGLE_CHAR_ID.get(ch.toUpperCase())
    if (id === undefined) {
      const shown = JSON.stringify(ch)
      const hint =
        ch === '*'
          ? ' (a stop codon: remove it)'
          : ch === '<'
            ? ' (only the special token <mask> may appear in a sequence)'
            : ''
      throw new SequenceError(
        `sequence "${sequenceId}": character ${shown} at residue ${n + 1} is not in the ESM alphabet${hint}; ` +
          `allowed: ${ESM_VOCAB.filter(t => t.length === 1).join('')} and <mask>`,
        sequenceId,
        n + 1
      )
    }
    out[n++] = id
  }
  if (n === 0) throw new SequenceError(`sequence "${sequenceId}" is empty`, sequenceId)
  return out.slice(0, n)
}

/** `<cls>` + residues + `<eos>`. */
export function tokenize(sequence: string, sequenceId: string): Int32Array {
  const residues = residueTokens(sequence, sequenceId)
  const out = new Int32Array(residues.length + 2)
  out[0] = CLS_ID
  out.set(residues, 1)
  out[out.length - 1] = EOS_ID
  return out
}

/** Token ids back to a residue string (`<mask>` spelled out, special tokens dropped). */
export function detokenize(ids: ArrayLike<number>): string {
  let s = ''
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    if (id === CLS_ID || id === EOS_ID || id === PAD_ID) continue
    s += ESM_VOCAB[id] ?? '?'
  }
  return s
}
