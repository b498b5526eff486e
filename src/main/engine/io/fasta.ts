/**
 * FASTA reading (plain or gzipped), streaming. The id of a record is the first word after `>`; the rest of
 * the header line is its description. Sequence lines are concatenated with whitespace removed.
 *
 * With `maxResidues`, a record longer than that is yielded as soon as it passes the bound, with `tooLong` and
 * an empty sequence, for the caller to report; the rest of its lines are skipped without being kept, so memory
 * stays bounded whatever the record's size.
 */
import { readLines, type ReadLinesOptions } from './text-lines'

export interface FastaRecord {
  id: string
  description: string
  sequence: string
  /** Line of the header, for error messages. */
  line: number
  /** Set (to `maxResidues`) when the record has more residues than that; `sequence` is then ''. */
  tooLong?: number
}

export interface ReadFastaOptions extends ReadLinesOptions {
  maxResidues?: number
}

export async function* readFasta(path: string, opts: ReadFastaOptions = {}): AsyncGenerator<FastaRecord> {
  const maxResidues = opts.maxResidues ?? Infinity
  // undefined: before the first header; null: skipping the rest of a record that was too long
  let current: FastaRecord | undefined | null
  let parts: string[] = []
  let residues = 0
  for await (const [n, raw] of readLines(path, opts)) {
    const line = raw.trimEnd()
    if (line.startsWith('>')) {
      if (current) yield { ...current, sequence: parts.join('') }
      const header = line.slice(1).trim()
      const space = header.search(/\s/)
      const id = space < 0 ? header : header.slice(0, space)
      if (!id) throw new Error(`${path}:${n}: a FASTA header with no id (">" must be followed by an identifier)`)
      current = { id, description: space < 0 ? '' : header.slice(space + 1).trim(), sequence: '', line: n }
      parts = []
      residues = 0
    } else if (line.length > 0 && !line.startsWith(';')) {
      if (current === undefined)
        throw new Error(`${path}:${n}: sequence data before the first ">" header; is this a FASTA file?`)
      if (current === null) continue // the rest of a record that was too long
      const piece = line.replace(/\s+/g, '')
      residues += piece.length
      if (residues <= maxResidues) parts.push(piece)
      else {
        yield { ...current, sequence: '', tooLong: maxResidues }
        current = null
        parts = []
      }
    }
  }
  if (current) yield { ...current, sequence: parts.join('') }
}
