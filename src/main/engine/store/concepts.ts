/**
 * Concepts and their annotation instances, for concept association (feature-statistics.ts).
 *
 * A concept is an annotation type ("helix") or, for the types the user splits, a type with one note or ligand
 * ("metal" + "Zn(2+)"), as InterPLM splits its categorical UniProt columns (it keeps the whole type too, as
 * "<type>_any"). A concept with fewer annotation instances in the run than `minInstances` is not scored.
 *
 * An instance is one annotation (one helix, one domain, one zinc finger, one disulfide bond) with at least one
 * residue inside the sequence. Instances are numbered per concept 1, 2, 3, … in the order the proteins are
 * scanned (protein id), then in the order of the protein's annotations: the numbering InterPLM gives them
 * (a running counter per concept across the proteins of a shard). Overlapping instances of one concept stay
 * separate instances (InterPLM's per-residue label column keeps only the last one's number on the overlap).
 */
import {
  CONCEPT_TYPES,
  PER_RESIDUE_CONCEPT_TYPES,
  type AnnotationType,
  type ConceptScoring,
  type ResidueAnnotation
} from '../../../shared/store-types'

export const DEFAULT_CONCEPT_SCORING: ConceptScoring = { falsePositives: 'annotated', splitTypes: [], minInstances: 1 }

export interface ConceptKey {
  type: AnnotationType
  /** '' for the whole type. */
  note: string
}

/**
 * The note an annotation is split by: its ligand or note (the text before the first ';'), without UniProt's
 * evidence words ("(By similarity)", "(Potential)", "(Probable)") and a trailing full stop.
 */
export function conceptNote(a: ResidueAnnotation): string {
  const first = (a.description ?? '').split(';')[0]
  return first
    .replace(/\((?:by similarity|potential|probable)\)/gi, '')
    .replace(/\.\s*$/, '')
    .trim()
}

export function conceptName(k: ConceptKey): string {
  return k.note ? `${k.type}:${k.note}` : k.type
}

/** The residues (0-based) of an annotation inside a sequence of `length`; empty when none is inside. */
export function instanceResidues(a: ResidueAnnotation, length: number): number[] {
  if (a.pairwise) {
    const out: number[] = []
    if (a.start >= 1 && a.start <= length) out.push(a.start - 1)
    if (a.end !== a.start && a.end >= 1 && a.end <= length) out.push(a.end - 1)
    return out
  }
  const lo = Math.max(1, a.start)
  const hi = Math.min(length, a.end)
  const out: number[] = []
  for (let r = lo; r <= hi; r++) out.push(r - 1)
  return out
}

/** Counts instances per candidate concept over the proteins (pass 1), then fixes the scored concepts. */
export class ConceptCounter {
  private readonly counts = new Map<string, { key: ConceptKey; n: number }>()
  private readonly split: Set<AnnotationType>

  constructor(readonly scoring: ConceptScoring) {
    this.split = new Set(scoring.splitTypes)
  }

  add(length: number, annotations: ResidueAnnotation[]): void {
    for (const a of annotations) {
      if (!CONCEPT_TYPES.includes(a.type)) continue
      if (instanceResidues(a, length).length === 0) continue
      this.bump({ type: a.type, note: '' })
      if (this.split.has(a.type)) {
        const note = conceptNote(a)
        if (note) this.bump({ type: a.type, note })
      }
    }
  }

  private bump(key: ConceptKey): void {
    const name = conceptName(key)
    const c = this.counts.get(name)
    if (c) c.n++
    else this.counts.set(name, { key, n: 1 })
  }

  catalogue(): ConceptCatalogue {
    const min = Math.max(1, this.scoring.minInstances)
    const keys = [...this.counts.values()]
      .filter(c => c.n >= min)
      .map(c => c.key)
      .sort(
        (a, b) =>
          CONCEPT_TYPES.indexOf(a.type) - CONCEPT_TYPES.indexOf(b.type) ||
          (a.note < b.note ? -1 : a.note > b.note ? 1 : 0)
      )
    return new ConceptCatalogue(keys, this.split)
  }
}

/** The scored concepts of a run, in a fixed order (type order, whole type first, then notes A→Z). */
export class ConceptCatalogue {
  readonly perResidue: boolean[]
  private readonly index = new Map<string, number>()

  constructor(
    readonly keys: ConceptKey[],
    private readonly split: Set<AnnotationType>
  ) {
    keys.forEach((k, i) => this.index.set(conceptName(k), i))
    this.perResidue = keys.map(k => PER_RESIDUE_CONCEPT_TYPES.includes(k.type))
  }

  get size(): number {
    return this.keys.length
  }

  /** The concepts an annotation belongs to (its type, and its type + note when split), as indices. */
  conceptsOf(a: ResidueAnnotation): number[] {
    const out: number[] = []
    const whole = this.index.get(a.type)
    if (whole !== undefined) out.push(whole)
    if (this.split.has(a.type)) {
      const note = conceptNote(a)
      const i = note ? this.index.get(conceptName({ type: a.type, note })) : undefined
      if (i !== undefined) out.push(i)
    }
    return out
  }
}

/**
 * One protein's concepts per residue, in two compressed rows:
 * - `conceptStart` / `concepts`: the distinct concepts each residue carries (for residue-level counts);
 * - `instanceStart` / `instances`: the instances (local index) each residue belongs to, for per-domain counts.
 * `instanceConcept[i]` and `instanceId[i]` give local instance i's concept and its run-wide number.
 */
export interface ConceptLayout {
  length: number
  conceptStart: Int32Array
  concepts: Int32Array
  instanceStart: Int32Array
  instances: Int32Array
  instanceConcept: Int32Array
  instanceId: Int32Array
}

/**
 * The layout of one protein. `counters[c]` is the number of instances of concept c numbered so far in the run;
 * it is advanced here, so calling this for the proteins in scan order numbers the instances run-wide.
 * Undefined when none of the protein's annotations is a scored concept.
 */
export function conceptLayout(
  length: number,
  annotations: ResidueAnnotation[],
  catalogue: ConceptCatalogue,
  counters: Int32Array
): ConceptLayout | undefined {
  const perResidue: { c: number; inst: number }[][] = []
  const instanceConcept: number[] = []
  const instanceId: number[] = []
  for (const a of annotations) {
    const cs = catalogue.conceptsOf(a)
    if (cs.length === 0) continue
    const residues = instanceResidues(a, length)
    if (residues.length === 0) continue
    for (const c of cs) {
      const inst = instanceConcept.length
      instanceConcept.push(c)
      instanceId.push(++counters[c])
      for (const r of residues) (perResidue[r] ??= []).push({ c, inst })
    }
  }
  if (instanceConcept.length === 0) return undefined
  const conceptStart = new Int32Array(length + 1)
  const instanceStart = new Int32Array(length + 1)
  const concepts: number[] = []
  const instances: number[] = []
  for (let r = 0; r < length; r++) {
    const entries = perResidue[r]
    if (entries) {
      const seen = new Set<number>()
      for (const e of entries) {
        if (!seen.has(e.c)) {
          seen.add(e.c)
          concepts.push(e.c)
        }
        instances.push(e.inst)
      }
    }
    conceptStart[r + 1] = concepts.length
    instanceStart[r + 1] = instances.length
  }
  return {
    length,
    conceptStart,
    concepts: Int32Array.from(concepts),
    instanceStart,
    instances: Int32Array.from(instances),
    instanceConcept: Int32Array.from(instanceConcept),
    instanceId: Int32Array.from(instanceId)
  }
}

/** Validates and completes concept scoring settings (clear errors for the CLI, the API and the job). */
export function conceptScoringOf(partial: Partial<ConceptScoring> | undefined): ConceptScoring {
  const s = { ...DEFAULT_CONCEPT_SCORING, ...(partial ?? {}) }
  if (s.falsePositives !== 'annotated' && s.falsePositives !== 'all') {
    throw new Error(
      `false positives are counted on 'annotated' proteins or on 'all' proteins, not "${String(s.falsePositives)}"`
    )
  }
  for (const t of s.splitTypes) {
    if (!CONCEPT_TYPES.includes(t))
      throw new Error(`"${t}" is not a concept type that can be split by note; use one of ${CONCEPT_TYPES.join(', ')}`)
  }
  if (!Number.isInteger(s.minInstances) || s.minInstances < 1)
    throw new Error(`the minimum instance count of a concept must be a whole number ≥ 1, not ${s.minInstances}`)
  return { falsePositives: s.falsePositives, splitTypes: [...s.splitTypes], minInstances: s.minInstances }
}
