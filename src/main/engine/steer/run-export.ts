/**
 * Exports of a steering run. FASTA: one record per generated sequence, the header recording everything needed
 * to reproduce and judge it:
 *   >RUN_i model=<name> model_sha256=<12 hex> sae=<name> sae_sha256=<12 hex> layer=<L>
 *    clamps=<feature>:<mode>:<value>[@<start>-<end>][,...] mode=<edit|resample|denovo> seed=<s> n=<n>
 *    temperature=<t> [rounds=<r> mask_fraction=<f>] [parent=<id>] identity=<0..1> pll=<nats> pll_per_residue=<nats>
 *    f<feature>=<mean re-encoded activation>... [motif=<pattern> motif_hits=<count>@<start>-<end>;...]
 * CSV: one row per sequence (the parent first when there is one, id "parent:<id>"). JSON: the whole record.
 */
import type { SequenceScores, SteeringRunRecord } from '../../../shared/steering-types'

const fmt = (v: number | undefined, digits = 4): string =>
  v === undefined ? 'NA' : Number(v.toFixed(digits)).toString()

export function clampLabel(run: SteeringRunRecord): string {
  return (
    run.clamps
      .map(c => `${c.feature}:${c.mode}:${c.value}${c.range ? `@${c.range.start}-${c.range.end}` : ''}`)
      .join(',') || 'none'
  )
}

function settingsLabel(run: SteeringRunRecord): string {
  const s = run.settings
  const parts = [`mode=${s.mode}`, `seed=${s.seed}`, `n=${s.n}`, `temperature=${s.temperature}`]
  if (s.mode === 'resample') parts.push(`rounds=${s.rounds}`, `mask_fraction=${s.maskFraction}`)
  if (s.mode === 'denovo') parts.push(`rounds=${Math.min(s.rounds, s.length ?? s.rounds)}`, `length=${s.length}`)
  return parts.join(' ')
}

function scoreLabel(run: SteeringRunRecord, sc: SequenceScores): string {
  const parts: string[] = []
  if (sc.identity !== undefined) parts.push(`identity=${fmt(sc.identity)}`)
  if (sc.pll !== undefined) parts.push(`pll=${fmt(sc.pll, 3)}`, `pll_per_residue=${fmt(sc.pllPerResidue)}`)
  for (const f of sc.featureActivation) parts.push(`f${f.feature}=${fmt(f.mean)}`)
  if (run.motif && sc.motifHits) {
    parts.push(
      `motif=${run.motif.replace(/\s+/g, '')}`,
      `motif_hits=${sc.motifHits.length}${sc.motifHits.length ? '@' + sc.motifHits.map(h => `${h.start}-${h.end}`).join(';') : ''}`
    )
  }
  return parts.join(' ')
}

export function toFasta(run: SteeringRunRecord, lineWidth = 60): string {
  const p = run.provenance
  const common = `model=${p.model.replace(/\s+/g, '_')} model_sha256=${p.modelHash.slice(0, 12)} sae=${p.sae.replace(/\s+/g, '_')} sae_sha256=${p.saeHash.slice(0, 12)} layer=${p.layer} clamps=${clampLabel(run)} ${settingsLabel(run)}${run.parent ? ` parent=${run.parent.id}` : ''}`
  let out = ''
  for (const s of run.sequences) {
    out += `>${s.id} ${common} ${scoreLabel(run, s.scores)}`.trimEnd() + '\n'
    for (let i = 0; i < s.sequence.length; i += lineWidth) out += s.sequence.slice(i, i + lineWidth) + '\n'
  }
  return out
}

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

export function toCsv(run: SteeringRunRecord): string {
  const features = run.clamps.map(c => c.feature)
  const header = [
    'id',
    'sequence',
    'length',
    'identity',
    'pll',
    'pll_per_residue',
    ...features.map((f, k) => `f${f}_activation${features.indexOf(f) !== k ? `_${k + 1}` : ''}`),
    'motif_hits',
    'motif_positions'
  ]
  const rows: string[][] = []
  const add = (id: string, seq: string, sc: SequenceScores): void => {
    rows.push([
      id,
      seq,
      String(seq.length),
      fmt(sc.identity, 6),
      fmt(sc.pll, 6),
      fmt(sc.pllPerResidue, 6),
      ...sc.featureActivation.map(f => fmt(f.mean, 6)),
      sc.motifHits ? String(sc.motifHits.length) : 'NA',
      sc.motifHits ? sc.motifHits.map(h => `${h.start}-${h.end}`).join(';') : ''
    ])
  }
  if (run.parent && run.parentScores) add(`parent:${run.parent.id}`, run.parent.sequence, run.parentScores)
  for (const s of run.sequences) add(s.id, s.sequence, s.scores)
  return [header, ...rows].map(r => r.map(csvCell).join(',')).join('\n') + '\n'
}

export function toJson(run: SteeringRunRecord): string {
  return JSON.stringify(run, null, 2) + '\n'
}
