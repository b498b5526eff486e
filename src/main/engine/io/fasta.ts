/**
 * FASTA reading (plain or gzipped), streaming. The id of a record is the first word after `>`; the rest of
 * the header line is its description. Sequence lines are concatenated with whitespace removed.
 */
import { readLines } from './text-lines'

export interface FastaRecord {
  id: string
  description: string
  sequence: string
  /** Line of the header, for error messages. */
  line: number
}

export async function* readFasta(path: string): AsyncGenerator<FastaRecord> {
  let current: FastaRecord | undefined
  let parts: string[] = []
  for await (const [n, raw] of readLines(path)) {
    const line = raw.trimEnd()
    if (line.startsWith('>')) {
      if (current) yield { ...current, sequence: parts.join('') }
      const header = line.slice(1).trim()
      const space = header.search(/\s/)
      const id = space < 0 ? header : header.slice(0, space)
      if (!id) throw new Error(`${path}:${n}: a FASTA header with no id (">" must be followed by an identifier)`)
      current = { id, description: space < 0 ? '' : header.slice(space + 1).trim(), sequence: '', line: n }
      parts = []
    } else if (line.length > 0 && !line.startsWith(';')) {
      if (!current) throw new Error(`${path}:${n}: sequence data before the first ">" header; is this a FASTA file?`)
      parts.push(line.replace(/\s+/g, ''))
    }
  }
  if (current) yield { ...current, sequence: parts.join('') }
}
