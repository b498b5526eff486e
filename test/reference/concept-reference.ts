/**
 * Independent reference for concept association, written from the definitions (InterPLM's and ours) over
 * dense per-residue values, without the store's concept layout or counters:
 * - a residue is predicted when its value > t·max (max over every protein of the run);
 * - predicted residues are counted on annotated proteins (any concept-type annotation) or on all proteins;
 * - residue recall = TP / residues carrying the concept; precision = TP / predicted;
 * - per-domain recall = annotations (instances) of the concept with ≥ 1 predicted residue / instances;
 *   per-residue concepts use the residue recall.
 */
import { CONCEPT_TYPES, PER_RESIDUE_CONCEPT_TYPES, type ResidueAnnotation } from '../../src/shared/store-types'

export interface RefProtein {
  length: number
  /** One feature's values per residue. */
  values: (feature: number, r: number) => number
  annotations: ResidueAnnotation[]
}

export interface RefConcept {
  type: string
  /** '' = the whole type. */
  note: string
}

/** The note of an annotation for splitting: the text before ';', trimmed (test data carry no evidence words). */
export const refNote = (a: ResidueAnnotation): string => a.description.split(';')[0].trim()

const belongs = (a: ResidueAnnotation, c: RefConcept) => a.type === c.type && (c.note === '' || refNote(a) === c.note)
const covers = (a: ResidueAnnotation, r1: number) =>
  a.pairwise ? r1 === a.start || r1 === a.end : r1 >= a.start && r1 <= a.end
const annotated = (p: RefProtein) => p.annotations.some(a => (CONCEPT_TYPES as readonly string[]).includes(a.type))
const harmonic = (p: number, r: number) => (p + r > 0 ? (2 * p * r) / (p + r) : 0)

/** Instances of a concept over the proteins: annotations with at least one residue inside the sequence. */
export function refInstances(
  proteins: RefProtein[],
  c: RefConcept
): { protein: number; annotation: ResidueAnnotation }[] {
  const out: { protein: number; annotation: ResidueAnnotation }[] = []
  proteins.forEach((p, i) => {
    if (!annotated(p)) return
    for (const a of p.annotations) {
      if (!belongs(a, c)) continue
      let inside = false
      for (let r1 = 1; r1 <= p.length; r1++) if (covers(a, r1)) inside = true
      if (inside) out.push({ protein: i, annotation: a })
    }
  })
  return out
}

export function refMetric(
  proteins: RefProtein[],
  feature: number,
  c: RefConcept,
  t: number,
  max: number,
  scope: 'annotated' | 'all'
) {
  let tp = 0
  let predicted = 0
  let positives = 0
  for (const p of proteins) {
    const ann = annotated(p)
    if (!ann && scope === 'annotated') continue
    for (let r = 0; r < p.length; r++) {
      const fires = p.values(feature, r) > t * max
      const has = ann && p.annotations.some(a => belongs(a, c) && covers(a, r + 1))
      if (fires) predicted++
      if (has) positives++
      if (has && fires) tp++
    }
  }
  const instances = refInstances(proteins, c)
  let found = 0
  for (const { protein, annotation } of instances) {
    const p = proteins[protein]
    let hit = false
    for (let r = 0; r < p.length; r++) if (covers(annotation, r + 1) && p.values(feature, r) > t * max) hit = true
    if (hit) found++
  }
  const precision = predicted > 0 ? tp / predicted : 0
  const recall = positives > 0 ? tp / positives : 0
  const perResidue = (PER_RESIDUE_CONCEPT_TYPES as readonly string[]).includes(c.type)
  const recallDomain = perResidue ? recall : instances.length > 0 ? found / instances.length : 0
  return {
    tp,
    predicted,
    positives,
    precision,
    recall,
    f1: harmonic(precision, recall),
    found,
    instances: instances.length,
    recallDomain,
    f1Domain: harmonic(precision, recallDomain)
  }
}
