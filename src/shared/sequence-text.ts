/**
 * Protein text, one rule each, for the renderer and the main process alike (plain TypeScript, no Node):
 * - which format a FASTA or UniProt flat-file text is (`proteinFormatOfLine`, `sniffProteinFormat`);
 * - how many records it holds (`RecordCounter`, `countRecords`), line by line so that files can be streamed;
 * - the records of pasted sequence text (`parsePastedRecords`), and the one sequence of a paste where only one can
 *   be used (`singlePastedRecord`).
 * A UTF-8 byte-order mark at the start of a text (or of a file's first line) is ignored everywhere.
 *
 * Several records: a view that can use several takes them all; one that needs one (the protein view, a steering
 * start) shows the first and offers the others; the service, asked for one sequence, refuses several.
 */

export type ProteinTextFormat = 'fasta' | 'uniprot'

/** The text without a leading UTF-8 byte-order mark. */
export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

/**
 * The format a record's first line says: a FASTA header (`>`), or a UniProt entry line (`ID   ` and a name);
 * undefined for any other line.
 */
export function proteinFormatOfLine(line: string): ProteinTextFormat | undefined {
  const l = withoutByteOrderMark(line)
  if (l.trimStart().startsWith('>')) return 'fasta'
  if (/^ID {3}\S/.test(l)) return 'uniprot'
  return undefined
}

/** The format of a text, from its first non-empty line; undefined when that line is neither. */
export function sniffProteinFormat(text: string): ProteinTextFormat | undefined {
  for (const line of withoutByteOrderMark(text).split('\n')) {
    if (line.trim()) return proteinFormatOfLine(line)
  }
  return undefined
}

/**
 * Counts records and residues line by line: a record starts at its FASTA header or UniProt `ID` line; residues
 * are the FASTA sequence lines, or the lines after UniProt's `SQ` line up to `//`. The format is the one given,
 * else that of the first non-empty line (a first line of neither format counts as FASTA, which finds no record).
 */
export class RecordCounter {
  records = 0
  residues = 0
  private inSequence = false

  constructor(private format?: ProteinTextFormat) {}

  add(line: string): void {
    if (this.format === undefined) {
      if (!line.trim()) return
      this.format = proteinFormatOfLine(line) ?? 'fasta'
    }
    if (this.format === 'fasta') {
      if (proteinFormatOfLine(line) === 'fasta') this.records++
      else this.residues += line.replace(/\s+/g, '').length
    } else if (proteinFormatOfLine(line) === 'uniprot') {
      this.records++
      this.inSequence = false
    } else if (line.startsWith('//')) this.inSequence = false
    else if (line.startsWith('SQ   ')) this.inSequence = true
    else if (this.inSequence) this.residues += line.replace(/\s+/g, '').length
  }
}

/** The number of records in FASTA or UniProt text (format given, or sniffed from the first line). */
export function countRecords(text: string, format?: ProteinTextFormat): number {
  const counter = new RecordCounter(format)
  for (const line of withoutByteOrderMark(text).split('\n')) counter.add(line)
  return counter.records
}

export interface PastedRecord {
  name: string
  sequence: string
}

/** One-letter amino-acid codes (the 20, B Z X U O, and a final stop `*`). */
const NOT_A_RESIDUE = /[^ACDEFGHIKLMNPQRSTVWYBZXUO*]/

/**
 * The records of pasted text: FASTA (every record, named by the first word of its header) or a bare sequence
 * ("pasted sequence"); spaces, line breaks, lower case and a final `*` are accepted. `{ error }` says what is
 * wrong and where.
 */
export function parsePastedRecords(text: string): { records: PastedRecord[] } | { error: string } {
  const raw: { name: string; lines: string[] }[] = []
  for (const line of withoutByteOrderMark(text)
    .split(/\r?\n/)
    .map(l => l.trim())) {
    if (line.startsWith(';')) continue // a FASTA comment line
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
    const bad = sequence.search(NOT_A_RESIDUE)
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

/** The one record of a paste where only one can be used: several records are refused, naming how many. */
export function singlePastedRecord(text: string): { record: PastedRecord } | { error: string } {
  const parsed = parsePastedRecords(text)
  if ('error' in parsed) return parsed
  if (parsed.records.length > 1) {
    return {
      error: `The pasted text has ${parsed.records.length} FASTA records: paste one sequence at a time (or index them all as a project).`
    }
  }
  return { record: parsed.records[0] }
}

/** "3 records pasted; showing the first, P69905" (the protein view's note on a multi-record paste). */
export function pastedRecordsNote(records: PastedRecord[], shown = 0): string {
  const which = shown === 0 ? 'the first' : `record ${shown + 1}`
  return `${records.length} FASTA records pasted; showing ${which}, ${records[shown].name}`
}
