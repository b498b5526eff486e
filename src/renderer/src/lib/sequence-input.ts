/** Reading protein sequences the user pasted (a bare sequence or FASTA with one or more records). */

export interface PastedRecord {
  name: string
  sequence: string
}

/**
 * Parse pasted text as FASTA (every record) or a bare sequence; `{ error }` says what is wrong and where.
 * A UTF-8 byte-order mark at the start is ignored.
 */
export function parsePastedRecords(text: string): { records: PastedRecord[] } | { error: string } {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map(l => l.trim())
  const raw: { name: string; lines: string[] }[] = []
  for (const line of lines) {
    if (line.startsWith('>')) {
      raw.push({ name: line.slice(1).trim().split(/\s+/)[0] || `record ${raw.length + 1}`, lines: [] })
      continue
    }
    if (raw.length === 0) raw.push({ name: 'pasted sequence', lines: [] })
    raw[raw.length - 1].lines.push(line)
  }
  const records: PastedRecord[] = []
  for (const r of raw) {
    const sequence = r.lines.join('').replace(/\s+/g, '').toUpperCase()
    if (!sequence) continue
    const bad = sequence.search(/[^ACDEFGHIKLMNPQRSTVWYBZXUO*]/)
    if (bad >= 0) {
      const where = raw.length > 1 ? ` in ${r.name}` : ''
      return {
        error: `Not a protein sequence: “${sequence[bad]}” at position ${bad + 1}${where}. Use one-letter amino-acid codes.`
      }
    }
    records.push({ name: r.name, sequence: sequence.replace(/\*$/, '') })
  }
  if (records.length === 0) return { error: 'Paste a protein sequence or a FASTA record.' }
  return { records }
}
