/**
 * UniProt flat file (`.dat`, plain or gzipped) reading, streaming: ID / AC / DE / OS / SQ and the FT feature
 * table turned into residue annotations. Both FT layouts are understood:
 *
 *   old (until 2019):  `FT   HELIX        12     20       Some description`  + continuation lines
 *   current:           `FT   HELIX           12..20`  + `FT                   /note="..."` qualifier lines
 *
 * Uncertain positions (`<1`, `>35`, `?`, `?31`) are flagged; a feature whose position is entirely unknown
 * (`?`) cannot be placed and is left out. Problems in an entry (no sequence, a length that disagrees with the
 * SQ line, a feature outside the sequence, an unreadable FT line, a truncated file) make that entry a bad
 * record, reported with file, line and id; reading goes on with the next entry, and the caller decides
 * whether to skip it or stop.
 */
import type { AnnotationType, BadRecordReport, ResidueAnnotation } from '../../../shared/store-types'
import { readLines, type ReadLinesOptions } from './text-lines'

export interface UniProtEntry {
  /** Entry name from the ID line, e.g. "CRU4_ARATH". */
  entryName: string
  /** Accessions from the AC lines; the first is the primary accession. */
  accessions: string[]
  /** Recommended (or submitted) full name from DE; '' when none. */
  fullName: string
  /** OS line(s) without the final period. */
  organism: string
  sequence: string
  annotations: ResidueAnnotation[]
  /** Line of the ID line (1-based). */
  line: number
}

export type UniProtItem = { kind: 'entry'; entry: UniProtEntry } | { kind: 'bad'; report: BadRecordReport }

/** UniProt FT keys → annotation types. */
const FT_KEYS: Record<string, AnnotationType> = {
  HELIX: 'helix',
  STRAND: 'strand',
  TURN: 'turn',
  TRANSMEM: 'transmembrane',
  INTRAMEM: 'intramembrane',
  TOPO_DOM: 'topological_domain',
  SIGNAL: 'signal_peptide',
  TRANSIT: 'transit_peptide',
  PROPEP: 'propeptide',
  CHAIN: 'chain',
  PEPTIDE: 'peptide',
  DOMAIN: 'domain',
  REPEAT: 'repeat',
  REGION: 'region',
  COILED: 'coiled_coil',
  COMPBIAS: 'compositional_bias',
  MOTIF: 'motif',
  ZN_FING: 'zinc_finger',
  DNA_BIND: 'dna_binding',
  NP_BIND: 'nucleotide_binding',
  CA_BIND: 'calcium_binding',
  BINDING: 'binding_site',
  ACT_SITE: 'active_site',
  METAL: 'metal',
  SITE: 'site',
  MOD_RES: 'modified_residue',
  LIPID: 'lipidation',
  CARBOHYD: 'glycosylation',
  DISULFID: 'disulfide_bond',
  CROSSLNK: 'cross_link',
  NON_STD: 'non_standard_residue',
  INIT_MET: 'initiator_methionine',
  MUTAGEN: 'mutagenesis',
  VARIANT: 'variant',
  VAR_SEQ: 'splice_variant',
  CONFLICT: 'conflict'
}

/** The annotation type of an FT key ('other' for keys such as NON_TER, UNSURE, NON_CONS). */
export function annotationTypeOfKey(key: string): AnnotationType {
  return FT_KEYS[key] ?? 'other'
}

interface Position {
  value: number | undefined
  uncertain: boolean
}

/** "12", "<1", ">35", "?", "?31", "31?" → value + uncertainty; undefined when not a position at all. */
function parsePosition(text: string): Position | undefined {
  const m = /^([<>?]?)(\d*)(\??)$/.exec(text)
  if (!m || (m[1] === '' && m[2] === '' && m[3] === '')) return undefined
  if (m[2] === '' && m[1] !== '?' && m[3] !== '?') return undefined
  return { value: m[2] === '' ? undefined : Number(m[2]), uncertain: m[1] !== '' || m[3] !== '' }
}

class EntryProblem extends Error {
  constructor(
    message: string,
    readonly line: number
  ) {
    super(message)
  }
}

/** A feature being read (its qualifier / continuation lines may follow). */
interface OpenFeature {
  key: string
  line: number
  start: Position
  end: Position
  /** Old format: description text; current format: unused. */
  description: string[]
  qualifiers: Map<string, string>
  /** Current format: a qualifier whose quoted value continues on the next line. */
  openQualifier?: { name: string; parts: string[] }
  /** A location on another entry / isoform ("P12345-2:10..20"): not on this sequence. */
  foreign: boolean
  format: 'old' | 'current'
}

interface EntryBuilder {
  line: number
  entryName: string
  declaredLength: number | undefined
  accessions: string[]
  fullName: string
  subName: string
  organism: string[]
  features: OpenFeature[]
  sequence: string[]
  /** Residues read so far (the sequence is dropped once it passes `maxResidues`). */
  residues: number
  inSequence: boolean
  problem?: EntryProblem
}

export interface ReadUniProtOptions extends ReadLinesOptions {
  /** An entry with a longer sequence is a bad entry (its sequence is not kept in memory). */
  maxResidues?: number
  /** Appended to the message of a too-long entry: how to raise the bound. */
  maxResiduesHint?: string
}

function stripEvidence(text: string): string {
  return text.replace(/\s*\{ECO:[^}]*\}/g, '').trim()
}

function joinWrapped(parts: string[]): string {
  let out = ''
  for (const p of parts) {
    if (!out) out = p
    // UniProt wraps after a hyphen without a space ("flavanone 3-" + "hydroxylase").
    else if (/\S-$/.test(out)) out += p
    else out += ` ${p}`
  }
  return out.trim()
}

function describe(f: OpenFeature): string {
  if (f.format === 'old') {
    return joinWrapped(f.description)
      .replace(/\s*\/FTId=[^ ]*$/, '')
      .trim()
  }
  const note = f.qualifiers.get('note') ?? ''
  const ligand = f.qualifiers.get('ligand') ?? ''
  return [ligand, note].filter(s => s.length > 0).join('; ')
}

function finishFeature(f: OpenFeature, length: number, entry: string): ResidueAnnotation | undefined {
  if (f.openQualifier)
    throw new EntryProblem(`FT ${f.key}: the quoted /${f.openQualifier.name} value is never closed`, f.line)
  if (f.foreign) return undefined
  const start = f.start.value
  const end = f.end.value
  if (start === undefined || end === undefined) return undefined // a position that is entirely unknown ('?')
  if (start < 1 || end < start || end > length) {
    throw new EntryProblem(
      `FT ${f.key} ${start}..${end} of entry ${entry} lies outside its sequence of ${length} residues (or ends before it starts)`,
      f.line
    )
  }
  const type = annotationTypeOfKey(f.key)
  const a: ResidueAnnotation = { type, start, end, description: describe(f), key: f.key }
  if ((type === 'disulfide_bond' || type === 'cross_link') && end > start) a.pairwise = true
  if (f.start.uncertain) a.startUncertain = true
  if (f.end.uncertain) a.endUncertain = true
  return a
}

function parseFeatureStart(body: string, key: string, n: number): OpenFeature {
  const rest = body.trim()
  const tokens = rest.split(/\s+/)
  const base = { key, line: n, description: [] as string[], qualifiers: new Map<string, string>(), foreign: false }
  // Old layout: two position columns then an optional description.
  if (tokens.length >= 2) {
    const a = parsePosition(tokens[0])
    const b = parsePosition(tokens[1])
    if (a && b) {
      const m = /^\S+\s+\S+\s*(.*)$/.exec(rest)
      const desc = m ? m[1].trim() : ''
      return { ...base, start: a, end: b, description: desc ? [desc] : [], format: 'old' }
    }
  }
  // Current layout: one location token, "12..20", "52", "<1..>35", "?..50", "P12345-2:10..20".
  if (tokens.length === 1) {
    let loc = tokens[0]
    let foreign = false
    const colon = loc.lastIndexOf(':')
    if (colon >= 0) {
      foreign = true
      loc = loc.slice(colon + 1)
    }
    const parts = loc.split('..')
    if (parts.length === 1 || parts.length === 2) {
      const a = parsePosition(parts[0])
      const b = parts.length === 2 ? parsePosition(parts[1]) : a
      if (a && b) return { ...base, start: a, end: b, foreign, format: 'current' }
    }
  }
  throw new EntryProblem(
    `FT ${key}: cannot read the location "${rest}" (expected "12..20", "52" or the old "12     20" columns)`,
    n
  )
}

function addContinuation(f: OpenFeature, text: string, n: number): void {
  if (f.format === 'old' && !f.openQualifier) {
    if (text.startsWith('/FTId=')) return
    f.description.push(text)
    return
  }
  if (f.openQualifier) {
    const q = f.openQualifier
    const close = text.endsWith('"') && !text.endsWith('""')
    q.parts.push(close ? text.slice(0, -1) : text)
    if (close) {
      f.qualifiers.set(q.name, stripEvidence(joinWrapped(q.parts)))
      f.openQualifier = undefined
    }
    return
  }
  const m = /^\/(\w+)(?:=(.*))?$/.exec(text)
  if (!m) throw new EntryProblem(`FT ${f.key}: expected a /qualifier="value" line, got "${text}"`, n)
  const name = m[1]
  const value = m[2] ?? ''
  if (value.startsWith('"')) {
    const inner = value.slice(1)
    if (inner.endsWith('"') && inner.length >= 1) f.qualifiers.set(name, stripEvidence(inner.slice(0, -1)))
    else f.openQualifier = { name, parts: [inner] }
  } else {
    f.qualifiers.set(name, value)
  }
}

function finishEntry(b: EntryBuilder): UniProtEntry {
  const id = b.entryName || b.accessions[0] || '(no ID)'
  const sequence = b.sequence.join('')
  if (!b.inSequence) throw new EntryProblem(`entry ${id} has no SQ sequence block`, b.line)
  if (sequence.length === 0) throw new EntryProblem(`entry ${id} has an empty sequence`, b.line)
  if (b.declaredLength !== undefined && b.declaredLength !== sequence.length) {
    throw new EntryProblem(
      `entry ${id}: the sequence has ${sequence.length} residues but the ID/SQ lines say ${b.declaredLength}`,
      b.line
    )
  }
  const bad = /[^A-Za-z]/.exec(sequence)
  if (bad)
    throw new EntryProblem(
      `entry ${id}: character ${JSON.stringify(bad[0])} in the sequence at residue ${bad.index + 1}`,
      b.line
    )
  const annotations: ResidueAnnotation[] = []
  for (const f of b.features) {
    const a = finishFeature(f, sequence.length, id)
    if (a) annotations.push(a)
  }
  return {
    entryName: b.entryName,
    accessions: b.accessions,
    fullName: b.fullName || b.subName,
    organism: b.organism.join(' ').replace(/\.$/, '').trim(),
    sequence: sequence.toUpperCase(),
    annotations,
    line: b.line
  }
}

/**
 * Reads a UniProt flat file entry by entry. Bad entries are yielded as `{ kind: 'bad' }` reports and reading
 * continues with the next entry.
 */
export async function* readUniProt(path: string, opts: ReadUniProtOptions = {}): AsyncGenerator<UniProtItem> {
  const maxResidues = opts.maxResidues ?? Infinity
  let b: EntryBuilder | undefined
  let lastLine = 0
  const fresh = (n: number): EntryBuilder => ({
    line: n,
    entryName: '',
    declaredLength: undefined,
    accessions: [],
    fullName: '',
    subName: '',
    organism: [],
    features: [],
    sequence: [],
    residues: 0,
    inSequence: false
  })
  const report = (entry: EntryBuilder, p: EntryProblem): UniProtItem => ({
    kind: 'bad',
    report: { file: path, line: p.line, id: entry.accessions[0] ?? entry.entryName ?? '', message: p.message }
  })
  let deDepth = 0 // 1 inside the "Contains:" / "Includes:" blocks of DE
  for await (const [n, raw] of readLines(path, opts)) {
    lastLine = n
    if (raw.length === 0) continue
    const code = raw.slice(0, 2)
    if (code === '//') {
      if (!b) continue
      const entry = b
      b = undefined
      if (entry.problem) {
        yield report(entry, entry.problem)
        continue
      }
      try {
        yield { kind: 'entry', entry: finishEntry(entry) }
      } catch (e) {
        if (!(e instanceof EntryProblem)) throw e
        yield report(entry, e)
      }
      continue
    }
    if (!b) {
      b = fresh(n)
      deDepth = 0
      if (code !== 'ID')
        b.problem = new EntryProblem(
          `an entry must start with an ID line, found "${raw.slice(0, 40)}"; is this a UniProt flat file?`,
          n
        )
    }
    if (b.problem) continue
    try {
      if (b.inSequence) {
        if (code === '  ' || code === '') {
          const piece = raw.replace(/\s+/g, '')
          b.residues += piece.length
          if (b.residues > maxResidues) {
            b.sequence = []
            throw new EntryProblem(
              `entry ${b.entryName}: the sequence has more than ${maxResidues} residues${opts.maxResiduesHint ? `; ${opts.maxResiduesHint}` : ''}`,
              b.line
            )
          }
          b.sequence.push(piece)
        } else throw new EntryProblem(`unexpected "${code}" line inside the sequence block (missing "//"?)`, n)
        continue
      }
      const body = raw.length > 5 ? raw.slice(5) : ''
      switch (code) {
        case 'ID': {
          if (b.entryName)
            throw new EntryProblem(`a second ID line before the end of entry ${b.entryName} (missing "//"?)`, n)
          const m = /^(\S+)\s+.*?(\d+)\s+AA\.\s*$/.exec(body.trim())
          b.entryName = m ? m[1] : (body.trim().split(/\s+/)[0] ?? '')
          if (m) b.declaredLength = Number(m[2])
          break
        }
        case 'AC':
          for (const a of body.split(';')) if (a.trim()) b.accessions.push(a.trim())
          break
        case 'DE': {
          const t = body.trimEnd()
          const indent = t.length - t.trimStart().length
          const s = t.trim()
          // names inside "Contains:" / "Includes:" blocks belong to chains or domains, not to the entry
          if (indent === 0) deDepth = s === 'Contains:' || s === 'Includes:' ? 1 : 0
          const m = deDepth === 0 ? /^(RecName|SubName):\s*Full=(.*?);?$/.exec(s) : null
          if (m && m[1] === 'RecName' && !b.fullName) b.fullName = stripEvidence(m[2])
          if (m && m[1] === 'SubName' && !b.subName) b.subName = stripEvidence(m[2])
          break
        }
        case 'OS':
          b.organism.push(body.trim())
          break
        case 'FT': {
          const key = raw.slice(5, 13).trim()
          if (key) {
            if (b.features.length > 0 && b.features[b.features.length - 1].openQualifier) {
              throw new EntryProblem(
                `FT ${b.features[b.features.length - 1].key}: the quoted qualifier is not closed before the next feature`,
                n
              )
            }
            b.features.push(parseFeatureStart(raw.slice(13), key, n))
          } else {
            const last = b.features[b.features.length - 1]
            if (!last) throw new EntryProblem('an FT continuation line with no feature before it', n)
            addContinuation(last, raw.slice(2).trim(), n)
          }
          break
        }
        case 'SQ': {
          const m = /SEQUENCE\s+(\d+)\s+AA/.exec(body)
          if (m) {
            const len = Number(m[1])
            if (b.declaredLength !== undefined && b.declaredLength !== len) {
              throw new EntryProblem(`the ID line says ${b.declaredLength} residues but the SQ line says ${len}`, n)
            }
            b.declaredLength = len
          }
          b.inSequence = true
          break
        }
        default:
          break
      }
    } catch (e) {
      if (!(e instanceof EntryProblem)) throw e
      b.problem = e
    }
  }
  if (b) {
    const p = new EntryProblem(
      `the file ends inside entry ${b.entryName || '(no ID)'} (no closing "//"); is the file complete?`,
      lastLine
    )
    yield report(b, b.problem ?? p)
  }
}
