/**
 * Label cards: a short description of every feature generated from its statistics, without an LLM.
 *
 * Read from the feature's top proteins (the top-k by max activation, pass 3 of the statistics), where a residue
 * "fires" when its value is above CARD_FIRING_FRACTION of the feature's max:
 * - the activation pattern of each top protein, then the most common one:
 *     whole protein  (fires on ≥ 50 % of the residues),
 *     periodic       (≥ 4 firing residues, ≥ 60 % of whose gaps are g or g + 1 for one g in 2..6:
 *                     every 2nd residue for strands, every 3rd–4th for helix faces),
 *     single residues / short motifs / whole domains (mean run of consecutive firing residues ≤ 2, ≤ 15, > 15);
 * - amino-acid enrichment: a residue type's share of the firing residues over its share of all residues of
 *   the same proteins (shown when ≥ 2 with at least 3 firing residues of that type);
 * - position: N- / C-terminal when ≥ 50 % of the firing residues lie in the first / last 10 % of the protein;
 * - concepts: the run's concepts with residue F1 or per-domain F1 at or above the floor;
 * - 3D clustering (where the project has structures of top proteins): the firing residues of the top proteins on
 *   the chains aligned to them against random residue sets of the same size (structure-clustering.ts).
 */
import { ANNOTATION_LABELS, type AnnotationType, type FeatureLabelCard } from '../../../shared/store-types'
import { DEFAULT_CONCEPT_F1_FLOOR } from '../../../shared/concept-floor'
import { clusteringTest, clusteringText, type ChainTrack } from './structure-clustering'

export const CARD_FIRING_FRACTION = 0.15
const AAS = 'ACDEFGHIKLMNPQRSTVWY'
const AA_INDEX = new Int8Array(128).fill(20)
for (let i = 0; i < AAS.length; i++) AA_INDEX[AAS.charCodeAt(i)] = i
const NA = 21
export const PATTERNS = ['residue', 'motif', 'domain', 'periodic', 'protein'] as const
export type ActivationPattern = (typeof PATTERNS)[number]
export const PATTERN_LABELS: Record<ActivationPattern, string> = {
  residue: 'single residues',
  motif: 'short motifs',
  domain: 'whole domains',
  periodic: 'periodic',
  protein: 'whole protein'
}

/** The activation pattern of one protein's firing residues (0-based, increasing) in a protein of `length`. */
export function classifyPattern(firing: number[], length: number): ActivationPattern | null {
  const n = firing.length
  if (n === 0 || length === 0) return null
  if (n / length >= 0.5) return 'protein'
  if (n >= 4) {
    const gaps = new Map<number, number>()
    for (let i = 1; i < n; i++) {
      const g = firing[i] - firing[i - 1]
      gaps.set(g, (gaps.get(g) ?? 0) + 1)
    }
    let best = 0
    for (const [g] of gaps) if (g >= 2 && g <= 6) best = Math.max(best, (gaps.get(g) ?? 0) + (gaps.get(g + 1) ?? 0))
    if (best >= 0.6 * (n - 1)) return 'periodic'
  }
  let runs = 1
  for (let i = 1; i < n; i++) if (firing[i] !== firing[i - 1] + 1) runs++
  const mean = n / runs
  return mean <= 2 ? 'residue' : mean <= 15 ? 'motif' : 'domain'
}

/** Per-feature accumulators over the top proteins. */
export class LabelCardAccumulator {
  private readonly aaFiring: Uint32Array
  private readonly aaAll: Uint32Array
  private readonly votes: Uint16Array
  private readonly proteins: Uint16Array
  private readonly nTerm: Uint32Array
  private readonly cTerm: Uint32Array
  private readonly posSum: Float64Array
  private readonly firing: Uint32Array
  /** Per feature, the firing residues of its top proteins that have a structure chain. */
  private readonly onStructures = new Map<number, { track: ChainTrack; firing: number[] }[]>()

  constructor(readonly dSae: number) {
    this.aaFiring = new Uint32Array(dSae * NA)
    this.aaAll = new Uint32Array(dSae * NA)
    this.votes = new Uint16Array(dSae * PATTERNS.length)
    this.proteins = new Uint16Array(dSae)
    this.nTerm = new Uint32Array(dSae)
    this.cTerm = new Uint32Array(dSae)
    this.posSum = new Float64Array(dSae)
    this.firing = new Uint32Array(dSae)
  }

  /**
   * One top protein of feature f: its sequence and the feature's sparse track (residues increasing), and the
   * CA coordinates of the structure chain aligned to it when the project has one.
   */
  add(
    f: number,
    sequence: string,
    residues: ArrayLike<number>,
    values: ArrayLike<number>,
    from: number,
    to: number,
    cut: number,
    structure?: ChainTrack | null
  ): void {
    const L = sequence.length
    const base = f * NA
    for (let i = 0; i < L; i++) this.aaAll[base + aaIndex(sequence.charCodeAt(i))]++
    const fired: number[] = []
    for (let e = from; e < to; e++) {
      if (values[e] <= cut) continue
      const r = residues[e]
      fired.push(r)
      this.aaFiring[base + aaIndex(sequence.charCodeAt(r))]++
      const rel = (r + 0.5) / L
      this.posSum[f] += rel
      if (rel < 0.1) this.nTerm[f]++
      if (rel > 0.9) this.cTerm[f]++
    }
    this.firing[f] += fired.length
    if (structure && fired.length > 0) {
      const list = this.onStructures.get(f) ?? []
      list.push({ track: structure, firing: fired })
      this.onStructures.set(f, list)
    }
    const p = classifyPattern(fired, L)
    if (p !== null) {
      this.votes[f * PATTERNS.length + PATTERNS.indexOf(p)]++
      this.proteins[f]++
    }
  }

  /** The card of feature f, from its concepts (F1 and per-domain F1, best first in either order). */
  card(
    f: number,
    concepts: { type: AnnotationType; note: string; f1: number; f1Domain: number | null }[],
    floor = DEFAULT_CONCEPT_F1_FLOOR
  ): FeatureLabelCard {
    const strong = concepts
      .filter(c => c.f1 >= floor || (c.f1Domain ?? 0) >= floor)
      .sort((a, b) => Math.max(b.f1, b.f1Domain ?? 0) - Math.max(a.f1, a.f1Domain ?? 0))
      .slice(0, 3)
    let pattern: ActivationPattern | null = null
    let votes = 0
    for (let i = 0; i < PATTERNS.length; i++) {
      const v = this.votes[f * PATTERNS.length + i]
      if (v > votes) {
        votes = v
        pattern = PATTERNS[i]
      }
    }
    const firing = this.firing[f]
    const base = f * NA
    let all = 0
    for (let a = 0; a < NA; a++) all += this.aaAll[base + a]
    const enriched: FeatureLabelCard['enriched'] = []
    if (firing > 0) {
      for (let a = 0; a < 20; a++) {
        const k = this.aaFiring[base + a]
        if (k < 3) continue
        const share = k / firing
        const ratio = share / (this.aaAll[base + a] / all)
        if (ratio >= 2) enriched.push({ aa: AAS[a], ratio, share })
      }
      enriched.sort((x, y) => y.ratio - x.ratio || (x.aa < y.aa ? -1 : 1))
    }
    const terminal =
      firing === 0 ? null : this.nTerm[f] / firing >= 0.5 ? 'N' : this.cTerm[f] / firing >= 0.5 ? 'C' : null
    const card: FeatureLabelCard = {
      concepts: strong,
      pattern,
      patternShare: this.proteins[f] > 0 ? votes / this.proteins[f] : 0,
      enriched: enriched.slice(0, 3),
      terminal,
      meanPosition: firing > 0 ? this.posSum[f] / firing : 0,
      text: ''
    }
    const sets = this.onStructures.get(f)
    const clustering = sets ? clusteringTest(sets, f + 1) : null
    if (clustering) card.structure = clustering
    card.text = cardText(card)
    return card
  }
}

function aaIndex(code: number): number {
  return code < 128 ? AA_INDEX[code] : 20
}

/** The one-line text of a card: concepts · pattern · position · enrichment · 3D clustering. */
export function cardText(card: Omit<FeatureLabelCard, 'text'>): string {
  const parts: string[] = []
  if (card.concepts.length > 0) {
    parts.push(
      card.concepts
        .map(c => {
          const name = c.note ? `${ANNOTATION_LABELS[c.type]}: ${c.note}` : ANNOTATION_LABELS[c.type]
          const scores =
            c.f1Domain === null ? `F1 ${c.f1.toFixed(2)}` : `F1 ${c.f1.toFixed(2)}, domain F1 ${c.f1Domain.toFixed(2)}`
          return `${name} (${scores})`
        })
        .join(', ')
    )
  }
  if (card.pattern) parts.push(PATTERN_LABELS[card.pattern])
  if (card.terminal) parts.push(`${card.terminal}-terminal`)
  if (card.enriched.length > 0)
    parts.push(`enriched in ${card.enriched.map(e => `${e.aa} ×${e.ratio.toFixed(1)}`).join(', ')}`)
  if (card.structure) parts.push(clusteringText(card.structure))
  return parts.join(' · ')
}
