import type { AnnotationType } from '@shared/store-types'

/** Colours of the annotation tracks (secondary structure as in UniProt's viewer: helix red-ish, strand yellow). */
export const ANNOTATION_COLOURS: Partial<Record<AnnotationType, string>> = {
  helix: '#e15759',
  strand: '#f2b134',
  turn: '#59a14f',
  transmembrane: '#76b7b2',
  intramembrane: '#76b7b2',
  topological_domain: '#bab0ac',
  signal_peptide: '#b07aa1',
  transit_peptide: '#b07aa1',
  propeptide: '#9c755f',
  domain: '#4e79a7',
  repeat: '#86bcb6',
  region: '#a0cbe8',
  zinc_finger: '#8cd17d',
  dna_binding: '#499894',
  binding_site: '#d37295',
  active_site: '#d4a6c8',
  metal: '#79706e',
  site: '#ff9d9a',
  disulfide_bond: '#f28e2b',
  glycosylation: '#9d7660',
  modified_residue: '#d7b5a6',
  motif: '#fabfd2',
  coiled_coil: '#b6992d'
}

export function annotationColour(type: AnnotationType): string {
  return ANNOTATION_COLOURS[type] ?? '#9aa5b1'
}

/** Annotation types drawn as tracks, in display order: secondary structure first, then the rest by name. */
export const TRACK_ORDER: AnnotationType[] = [
  'helix',
  'strand',
  'turn',
  'transmembrane',
  'signal_peptide',
  'topological_domain',
  'domain',
  'region',
  'repeat',
  'zinc_finger',
  'dna_binding',
  'motif',
  'binding_site',
  'active_site',
  'metal',
  'site',
  'disulfide_bond',
  'glycosylation',
  'modified_residue'
]

export function tickFormat(v: number): string {
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a >= 10000) return `${(v / 1000).toFixed(0)}k`
  if (a >= 1000) return `${(v / 1000).toFixed(1)}k`
  if (a < 0.01) return v.toExponential(0)
  return String(Number(v.toPrecision(3)))
}
