/**
 * BLOSUM62 substitution matrix (Henikoff & Henikoff 1992), as distributed by NCBI.
 * Order of rows/columns: ARNDCQEGHILKMFPSTWYVBZX*.
 */
const ORDER = 'ARNDCQEGHILKMFPSTWYVBZX*'

const ROWS = [
  ' 4 -1 -2 -2  0 -1 -1  0 -2 -1 -1 -1 -1 -2 -1  1  0 -3 -2  0 -2 -1  0 -4',
  '-1  5  0 -2 -3  1  0 -2  0 -3 -2  2 -1 -3 -2 -1 -1 -3 -2 -3 -1  0 -1 -4',
  '-2  0  6  1 -3  0  0  0  1 -3 -3  0 -2 -3 -2  1  0 -4 -2 -3  3  0 -1 -4',
  '-2 -2  1  6 -3  0  2 -1 -1 -3 -4 -1 -3 -3 -1  0 -1 -4 -3 -3  4  1 -1 -4',
  ' 0 -3 -3 -3  9 -3 -4 -3 -3 -1 -1 -3 -1 -2 -3 -1 -1 -2 -2 -1 -3 -3 -2 -4',
  '-1  1  0  0 -3  5  2 -2  0 -3 -2  1  0 -3 -1  0 -1 -2 -1 -2  0  3 -1 -4',
  '-1  0  0  2 -4  2  5 -2  0 -3 -3  1 -2 -3 -1  0 -1 -3 -2 -2  1  4 -1 -4',
  ' 0 -2  0 -1 -3 -2 -2  6 -2 -4 -4 -2 -3 -3 -2  0 -2 -2 -3 -3 -1 -2 -1 -4',
  '-2  0  1 -1 -3  0  0 -2  8 -3 -3 -1 -2 -1 -2 -1 -2 -2  2 -3  0  0 -1 -4',
  '-1 -3 -3 -3 -1 -3 -3 -4 -3  4  2 -3  1  0 -3 -2 -1 -3 -1  3 -3 -3 -1 -4',
  '-1 -2 -3 -4 -1 -2 -3 -4 -3  2  4 -2  2  0 -3 -2 -1 -2 -1  1 -4 -3 -1 -4',
  '-1  2  0 -1 -3  1  1 -2 -1 -3 -2  5 -1 -3 -1  0 -1 -3 -2 -2  0  1 -1 -4',
  '-1 -1 -2 -3 -1  0 -2 -3 -2  1  2 -1  5  0 -2 -1 -1 -1 -1  1 -3 -1 -1 -4',
  '-2 -3 -3 -3 -2 -3 -3 -3 -1  0  0 -3  0  6 -4 -2 -2  1  3 -1 -3 -3 -1 -4',
  '-1 -2 -2 -1 -3 -1 -1 -2 -2 -3 -3 -1 -2 -4  7 -1 -1 -4 -3 -2 -2 -1 -2 -4',
  ' 1 -1  1  0 -1  0  0  0 -1 -2 -2  0 -1 -2 -1  4  1 -3 -2 -2  0  0  0 -4',
  ' 0 -1  0 -1 -1 -1 -1 -2 -2 -1 -1 -1 -1 -2 -1  1  5 -2 -2  0 -1 -1  0 -4',
  '-3 -3 -4 -4 -2 -2 -3 -2 -2 -3 -2 -3 -1  1 -4 -3 -2 11  2 -3 -4 -3 -2 -4',
  '-2 -2 -2 -3 -2 -1 -2 -3  2 -1 -1 -2 -1  3 -3 -2 -2  2  7 -1 -3 -2 -1 -4',
  ' 0 -3 -3 -3 -1 -2 -2 -3 -3  3  1 -2  1 -1 -2 -2  0 -3 -1  4 -3 -2 -1 -4',
  '-2 -1  3  4 -3  0  1 -1  0 -3 -4  0 -3 -3 -2  0 -1 -4 -3 -3  4  1 -1 -4',
  '-1  0  0  1 -3  3  4 -2  0 -3 -3  1 -1 -3 -1  0 -1 -3 -2 -2  1  4 -1 -4',
  ' 0 -1 -1 -1 -2 -1 -1 -1 -1 -1 -1 -1 -1 -1 -2  0  0 -2 -1 -1 -1 -1 -1 -4',
  '-4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4  1'
]

const SIZE = ORDER.length
const TABLE = new Int8Array(SIZE * SIZE)
ROWS.forEach((row, i) => {
  const values = row.trim().split(/\s+/).map(Number)
  if (values.length !== SIZE) throw new Error(`BLOSUM62 row ${i} has ${values.length} values, expected ${SIZE}`)
  values.forEach((v, j) => (TABLE[i * SIZE + j] = v))
})

/** Index of a residue letter in the matrix; unknown letters (U, O, J, lower case handled) map to X. */
export function blosumIndex(residue: string): number {
  const upper = residue.toUpperCase()
  const mapped = upper === 'U' ? 'C' : upper === 'O' ? 'K' : upper === 'J' ? 'L' : upper
  const i = ORDER.indexOf(mapped)
  return i < 0 ? ORDER.indexOf('X') : i
}

/** Substitution score of two residues (one-letter codes). */
export function blosum62(a: string, b: string): number {
  return TABLE[blosumIndex(a) * SIZE + blosumIndex(b)]
}

/** Encode a sequence as matrix indices (for the inner loop of the aligner). */
export function encodeForBlosum(sequence: string): Uint8Array {
  const out = new Uint8Array(sequence.length)
  for (let i = 0; i < sequence.length; i++) out[i] = blosumIndex(sequence[i])
  return out
}

/** Score by encoded indices. */
export function blosumByIndex(i: number, j: number): number {
  return TABLE[i * SIZE + j]
}
