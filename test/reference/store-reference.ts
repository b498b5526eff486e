/**
 * Independent brute-force references for the latent store's statistics, from dense float64 latents, and a
 * generator of synthetic latents with known structure (features tied to annotations) for the store tests.
 */
import { CONCEPT_TYPES, type ResidueAnnotation } from '../../src/shared/store-types'
import { sparsify, type SparseLatents } from '../../src/main/engine/sae/sparse-latents'
import { mulberry32 } from '../../src/main/engine/random'

export interface DenseProtein {
  proteinId: number
  length: number
  /** [length, width] row-major (already rounded like the store rounds). */
  dense: Float64Array
  annotations: ResidueAnnotation[]
}

/**
 * Synthetic proteins + dense latents: `width` features; feature 0 fires on helix residues, feature 1 on
 * transmembrane residues, feature 2 on disulfide cysteines, the rest fire at random (a few per residue),
 * the last feature never fires (dead).
 */
export function syntheticProteins(
  n: number,
  width: number,
  seed: number,
  opts: { annotated?: boolean; minLen?: number; maxLen?: number } = {}
) {
  const rand = mulberry32(seed)
  const minLen = opts.minLen ?? 20
  const maxLen = opts.maxLen ?? 120
  const out: { sequence: string; annotations: ResidueAnnotation[]; dense: Float32Array }[] = []
  for (let p = 0; p < n; p++) {
    const len = minLen + Math.floor(rand() * (maxLen - minLen + 1))
    let sequence = ''
    for (let i = 0; i < len; i++) sequence += 'ACDEFGHIKLMNPQRSTVWY'[Math.floor(rand() * 20)]
    const annotations: ResidueAnnotation[] = []
    if (opts.annotated !== false && rand() < 0.8) {
      const hs = 1 + Math.floor(rand() * (len / 2))
      const he = Math.min(len, hs + 3 + Math.floor(rand() * 10))
      annotations.push({ type: 'helix', start: hs, end: he, description: '' })
      if (rand() < 0.5) {
        const ts = 1 + Math.floor(rand() * (len - 5))
        annotations.push({
          type: 'transmembrane',
          start: ts,
          end: Math.min(len, ts + 4 + Math.floor(rand() * 15)),
          description: 'Helical'
        })
      }
      if (len > 10 && rand() < 0.5) {
        const a = 1 + Math.floor(rand() * 5)
        annotations.push({ type: 'disulfide_bond', start: a, end: len - 2, pairwise: true, description: '' })
      }
      annotations.push({ type: 'chain', start: 1, end: len, description: 'not a concept' })
    }
    const dense = new Float32Array(len * width)
    const inType = (r: number, type: string) =>
      annotations.some(
        a => a.type === type && (a.pairwise ? r + 1 === a.start || r + 1 === a.end : r + 1 >= a.start && r + 1 <= a.end)
      )
    for (let r = 0; r < len; r++) {
      if (inType(r, 'helix') && rand() < 0.9) dense[r * width] = 1 + 3 * rand()
      else if (rand() < 0.03) dense[r * width] = 0.5 * rand()
      if (inType(r, 'transmembrane') && rand() < 0.7) dense[r * width + 1] = 0.2 + rand()
      if (inType(r, 'disulfide_bond')) dense[r * width + 2] = 5 + rand()
      for (let j = 3; j < width - 1; j++) if (rand() < 0.08) dense[r * width + j] = rand() * (1 + (j % 7)) + 1e-3
    }
    out.push({ sequence, annotations, dense })
  }
  return out
}

export function toSparse(id: string, dense: Float32Array, rows: number, width: number): SparseLatents {
  return sparsify(id, dense, rows, width)
}

export interface ReferenceStats {
  firingResidues: number[]
  firingProteins: number[]
  max: number[]
  meanNz: number[]
  stdNz: number[]
  /** sorted nonzero values per feature */
  values: number[][]
  /** per feature: [proteinId, pmax][] sorted by pmax desc, id asc */
  ranking: [number, number][][]
  residues: number
  proteins: number
}

export function referenceStats(proteins: DenseProtein[], width: number): ReferenceStats {
  const firingResidues = new Array<number>(width).fill(0)
  const firingProteins = new Array<number>(width).fill(0)
  const max = new Array<number>(width).fill(0)
  const values: number[][] = Array.from({ length: width }, () => [])
  const ranking: [number, number][][] = Array.from({ length: width }, () => [])
  let residues = 0
  for (const p of proteins) {
    residues += p.length
    for (let f = 0; f < width; f++) {
      let pmax = 0
      for (let r = 0; r < p.length; r++) {
        const v = p.dense[r * width + f]
        if (v > 0) {
          firingResidues[f]++
          values[f].push(v)
          if (v > pmax) pmax = v
        }
      }
      if (pmax > 0) {
        firingProteins[f]++
        ranking[f].push([p.proteinId, pmax])
        if (pmax > max[f]) max[f] = pmax
      }
    }
  }
  const meanNz = values.map(vs => (vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : 0))
  const stdNz = values.map((vs, f) =>
    vs.length ? Math.sqrt(vs.reduce((a, b) => a + (b - meanNz[f]) ** 2, 0) / vs.length) : 0
  )
  for (const vs of values) vs.sort((a, b) => a - b)
  for (const r of ranking) r.sort((a, b) => b[1] - a[1] || a[0] - b[0])
  return { firingResidues, firingProteins, max, meanNz, stdNz, values, ranking, residues, proteins: proteins.length }
}

/** Precision / recall / F1 of "value > t·max" against "residue carries `type`", over annotated proteins. */
export function referenceConcept(
  proteins: DenseProtein[],
  width: number,
  feature: number,
  type: string,
  t: number,
  max: number
) {
  let tp = 0
  let predicted = 0
  let positives = 0
  for (const p of proteins) {
    const concepts = p.annotations.filter(a => (CONCEPT_TYPES as readonly string[]).includes(a.type))
    if (concepts.length === 0) continue
    for (let r = 0; r < p.length; r++) {
      const has = concepts.some(
        a => a.type === type && (a.pairwise ? r + 1 === a.start || r + 1 === a.end : r + 1 >= a.start && r + 1 <= a.end)
      )
      const fires = p.dense[r * width + feature] > t * max
      if (has) positives++
      if (fires) predicted++
      if (has && fires) tp++
    }
  }
  const precision = predicted ? tp / predicted : 0
  const recall = positives ? tp / positives : 0
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0
  return { tp, predicted, positives, precision, recall, f1 }
}
