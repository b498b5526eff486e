/**
 * One reader over the protein inputs an index job accepts: FASTA and UniProt flat files, plain or gzipped.
 * The format is detected from the content (first non-empty line: ">" = FASTA, "ID   " = UniProt), with the
 * file name as a fallback. Every protein becomes a `ProteinRecord`; problems become `BadRecordReport`s and the
 * caller's policy decides: 'skip' reports and goes on, 'stop' throws a `BadRecordError`.
 */
import type { BadRecordPolicy, BadRecordReport, ResidueAnnotation } from '../../../shared/store-types'
import { proteinFormatOfLine, type ProteinTextFormat } from '../../../shared/sequence-text'
import { SequenceError, residueTokens } from '../esm/alphabet'
import { readFasta } from './fasta'
import { DEFAULT_MAX_LINE_BYTES, readLines, type ReadLinesOptions } from './text-lines'
import { readUniProt } from './uniprot'

/**
 * The longest protein accepted by default (residues). The longest known protein (titin) has about 35,000;
 * the bound keeps a damaged or hostile file (one "sequence" of gigabytes) from taking all memory. Raise it
 * with `--max-residues` (plm-sae index) or `PLM_SAE_MAX_RESIDUES` (the app and the CLI).
 */
export const DEFAULT_MAX_RESIDUES = 100_000

export interface InputLimits {
  /** Longest sequence accepted (residues); default `maxResiduesFromEnv()`. */
  maxResidues?: number
}

/** `PLM_SAE_MAX_RESIDUES` when set to a positive integer, else `DEFAULT_MAX_RESIDUES`. */
export function maxResiduesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.PLM_SAE_MAX_RESIDUES)
  return Number.isInteger(v) && v > 0 ? v : DEFAULT_MAX_RESIDUES
}

const RAISE_HINT =
  'to accept longer sequences, raise the bound with --max-residues N (or the PLM_SAE_MAX_RESIDUES environment variable)'

/** The line bound that goes with a residue bound: a whole sequence on one line, plus room for a header. */
export function lineOptions(limits: InputLimits = {}): ReadLinesOptions {
  const maxResidues = limits.maxResidues ?? maxResiduesFromEnv()
  return {
    maxLineBytes: Math.max(DEFAULT_MAX_LINE_BYTES, maxResidues + (64 << 10)),
    raiseHint: `If it is a sequence on one line, ${RAISE_HINT}.`
  }
}

export type ProteinInputFormat = ProteinTextFormat

export interface ProteinRecord {
  /** Primary accession (UniProt AC, the accession of a "db|AC|NAME" FASTA id, or the FASTA id). */
  accession: string
  /** UniProt entry name ("CRU4_ARATH") when known, else ''. */
  name: string
  organism: string
  /** Recommended name (UniProt) or the FASTA description (without the OS=... tags). */
  description: string
  /** Upper-case residues. */
  sequence: string
  annotations: ResidueAnnotation[]
  file: string
  line: number
}

export type ProteinInputItem = { kind: 'protein'; record: ProteinRecord } | { kind: 'bad'; report: BadRecordReport }

export class BadRecordError extends Error {
  constructor(
    readonly report: BadRecordReport,
    options?: { cause?: unknown }
  ) {
    super(
      `${report.file}:${report.line}: bad record${report.id ? ` "${report.id}"` : ''}: ${report.message} ` +
        `(use --on-bad-record skip to skip bad records and go on)`,
      options
    )
    this.name = 'BadRecordError'
  }
}

/** Detects the format from the first non-empty line, falling back to the file name. */
export async function detectProteinFormat(path: string, limits: InputLimits = {}): Promise<ProteinInputFormat> {
  const gen = readLines(path, lineOptions(limits))
  try {
    for await (const [, line] of gen) {
      if (!line.trim()) continue
      const format = proteinFormatOfLine(line)
      if (format) return format
      break
    }
  } finally {
    await gen.return(undefined)
  }
  const name = path.toLowerCase().replace(/\.gz$/, '')
  if (/\.(dat|txt|swiss|sprot|uniprot)$/.test(name)) return 'uniprot'
  if (/\.(fasta|fa|faa|fas|fsa|seq)$/.test(name)) return 'fasta'
  throw new Error(
    `${path}: not a FASTA file (first line should start with ">") nor a UniProt flat file (first line "ID   ..."); which format is it?`
  )
}

/** "sp|P15455|CRU4_ARATH 12S seed storage protein OS=Arabidopsis thaliana OX=3702 GN=CRU4 PE=1 SV=2" → parts. */
export function parseFastaHeader(
  id: string,
  description: string
): { accession: string; name: string; organism: string; description: string } {
  let accession = id
  let name = ''
  const m = /^(?:sp|tr|up)\|([^|]+)\|([^|\s]*)$/.exec(id)
  if (m) {
    accession = m[1]
    name = m[2]
  }
  let organism = ''
  let desc = description
  const tag = / (OS|OX|GN|PE|SV)=/.exec(` ${description}`)
  if (tag) {
    desc = ` ${description}`.slice(0, tag.index).trim()
    const os = /(?:^| )OS=(.*?)(?= [A-Z][A-Za-z]*=|$)/.exec(description)
    if (os) organism = os[1].trim()
  }
  return { accession, name, organism, description: desc }
}

function checkSequence(sequence: string, id: string, file: string, line: number): BadRecordReport | undefined {
  if (sequence.length === 0) return { file, line, id, message: 'the sequence is empty' }
  try {
    residueTokens(sequence, id)
  } catch (e) {
    if (e instanceof SequenceError) return { file, line, id, message: e.message }
    throw e
  }
  return undefined
}

/** All records of a FASTA or UniProt file, bad ones as reports (reading goes on after them). */
export async function* readProteinInput(
  path: string,
  format?: ProteinInputFormat,
  limits: InputLimits = {}
): AsyncGenerator<ProteinInputItem> {
  const fmt = format ?? (await detectProteinFormat(path, limits))
  const maxResidues = limits.maxResidues ?? maxResiduesFromEnv()
  if (fmt === 'fasta') {
    for await (const r of readFasta(path, { ...lineOptions(limits), maxResidues })) {
      if (r.tooLong !== undefined) {
        yield {
          kind: 'bad',
          report: {
            file: path,
            line: r.line,
            id: r.id,
            message: `the sequence has more than ${maxResidues} residues; ${RAISE_HINT}`
          }
        }
        continue
      }
      const h = parseFastaHeader(r.id, r.description)
      const sequence = r.sequence.toUpperCase()
      const bad = checkSequence(sequence, r.id, path, r.line)
      if (bad) yield { kind: 'bad', report: bad }
      else yield { kind: 'protein', record: { ...h, sequence, annotations: [], file: path, line: r.line } }
    }
    return
  }
  for await (const item of readUniProt(path, { ...lineOptions(limits), maxResidues, maxResiduesHint: RAISE_HINT })) {
    if (item.kind === 'bad') {
      yield item
      continue
    }
    const e = item.entry
    const accession = e.accessions[0] ?? e.entryName
    const bad = checkSequence(e.sequence, accession, path, e.line)
    if (bad) {
      yield { kind: 'bad', report: bad }
      continue
    }
    yield {
      kind: 'protein',
      record: {
        accession,
        name: e.entryName,
        organism: e.organism,
        description: e.fullName,
        sequence: e.sequence,
        annotations: e.annotations,
        file: path,
        line: e.line
      }
    }
  }
}

/**
 * The proteins of a file with the bad-record policy applied: 'skip' calls `onBadRecord` and goes on, 'stop'
 * throws a `BadRecordError` naming the file, line and id.
 */
export async function* readProteins(
  path: string,
  opts: {
    policy?: BadRecordPolicy
    onBadRecord?: (r: BadRecordReport) => void
    format?: ProteinInputFormat
  } & InputLimits = {}
): AsyncGenerator<ProteinRecord> {
  for await (const item of readProteinInput(path, opts.format, opts)) {
    if (item.kind === 'protein') {
      yield item.record
      continue
    }
    if ((opts.policy ?? 'stop') === 'stop') throw new BadRecordError(item.report)
    opts.onBadRecord?.(item.report)
  }
}
