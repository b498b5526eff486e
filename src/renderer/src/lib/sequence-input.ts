/** Reading a protein sequence the user pasted (a bare sequence or FASTA). */

/** Parse pasted text as FASTA (first record) or a bare sequence; `{ error }` says what is wrong and where. */
export function parsePastedSequence(text: string): { name: string; sequence: string } | { error: string } {
  const lines = text.split(/\r?\n/).map((l) => l.trim())
  let name = 'pasted sequence'
  const seqLines: string[] = []
  let seenHeader = false
  for (const line of lines) {
    if (line.startsWith('>')) {
      if (seenHeader) break
      seenHeader = true
      name = line.slice(1).trim().split(/\s+/)[0] || name
      continue
    }
    seqLines.push(line)
  }
  const sequence = seqLines.join('').replace(/\s+/g, '').toUpperCase()
  if (!sequence) return { error: 'Paste a protein sequence or a FASTA record.' }
  const bad = sequence.search(/[^ACDEFGHIKLMNPQRSTVWYBZXUO*]/)
  if (bad >= 0) return { error: `Not a protein sequence: “${sequence[bad]}” at position ${bad + 1}. Use one-letter amino-acid codes.` }
  return { name, sequence: sequence.replace(/\*$/, '') }
}
