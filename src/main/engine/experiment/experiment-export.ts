/**
 * Exports of a steering experiment:
 * - CSV: one row per sequence (condition key, kind, set, dose, draw, index, start, sequence, every outcome;
 *   target activation per clamp set as target_set<k>; changed features as "f:delta;...");
 * - JSON: the design, provenance and summary (`ExperimentSummary`);
 * - FASTA per condition: `>EXP|<condition key>|<i> experiment=<id> model=… sae=… layer=… condition="<label>"
 *   clamps=<feature>:<mode>:<value>[@a-b],… mode=… seed=… start=<id> <outcomes>`;
 * - the plots as SVG (experiment-plots.ts);
 * - a self-contained HTML report (design, provenance, plots inline, the per-condition and per-set tables).
 */
import type {
  ExperimentCondition,
  ExperimentSummary,
  NumericOutcome,
  OutcomeSummary,
  SequenceOutcomes
} from '../../../shared/experiment-types'
import { NUMERIC_OUTCOMES } from '../../../shared/experiment-types'
import { distributionSvg, doseResponseSvg, OUTCOME_LABELS, screeningSvg } from '../../../shared/experiment-plots'
import type { ExperimentSequence } from '../../../shared/experiment-types'

const fmt = (v: number | undefined, digits = 6): string =>
  v === undefined || !Number.isFinite(v) ? 'NA' : Number(v.toFixed(digits)).toString()

function csvCell(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v
}

export function clampsLabel(c: ExperimentCondition): string {
  return (
    c.clamps
      .map(x => `${x.feature}:${x.mode}:${x.value}${x.range ? `@${x.range.start}-${x.range.end}` : ''}`)
      .join(',') || 'none'
  )
}

const SCALAR: (keyof SequenceOutcomes)[] = [
  'identity',
  'pll',
  'pllPerResidue',
  'ownActivation',
  'motifHits',
  'topResidueShare',
  'longestRun',
  'lowComplexity',
  'compositionShift',
  'meanPairwiseIdentity'
]

export function experimentCsv(summary: ExperimentSummary, seqs: ExperimentSequence[]): string {
  const sets = summary.design.clampSets.length
  const header = [
    'condition',
    'kind',
    'set',
    'dose',
    'draw',
    'index',
    'start',
    'sequence',
    'length',
    ...SCALAR.map(snake),
    ...Array.from({ length: sets }, (_, k) => `target_set${k + 1}`),
    'changed_features'
  ]
  const conds = new Map(summary.conditions.map(c => [c.condition.index, c.condition]))
  const rows = seqs.map(s => {
    const c = conds.get(s.conditionIndex)!
    return [
      c.key,
      c.kind,
      c.setIndex === undefined ? '' : String(c.setIndex + 1),
      c.dose === undefined ? '' : String(c.dose),
      c.draw === undefined ? '' : String(c.draw),
      String(s.index),
      s.startId,
      s.sequence,
      String(s.sequence.length),
      ...SCALAR.map(k => fmt(s.outcomes[k] as number | undefined)),
      ...Array.from({ length: sets }, (_, k) => fmt(s.outcomes.targetActivation[k])),
      s.outcomes.changedFeatures.map(f => `${f.feature}:${fmt(f.delta, 4)}`).join(';')
    ]
  })
  return [header, ...rows].map(r => r.map(csvCell).join(',')).join('\n') + '\n'
}

function snake(k: string): string {
  return k.replace(/[A-Z]/g, c => `_${c.toLowerCase()}`)
}

export function experimentJson(summary: ExperimentSummary): string {
  return JSON.stringify(summary, null, 2) + '\n'
}

export function conditionFasta(
  summary: ExperimentSummary,
  condition: ExperimentCondition,
  seqs: ExperimentSequence[],
  lineWidth = 60
): string {
  const p = summary.provenance
  const g = summary.design.generation
  const common = `experiment=${summary.id} model=${p.model.replace(/\s+/g, '_')} model_sha256=${p.modelHash.slice(0, 12)} sae=${p.sae.replace(/\s+/g, '_')} sae_sha256=${p.saeHash.slice(0, 12)} layer=${p.layer} condition="${condition.label.replace(/"/g, "'")}" clamps=${clampsLabel(condition)} mode=${g.mode} seed=${summary.design.seed} temperature=${g.temperature} rounds=${g.rounds} mask_fraction=${g.maskFraction} pll_method=${p.pllMethod.replace(/\s+/g, '_')}`
  let out = ''
  for (const s of seqs.filter(q => q.conditionIndex === condition.index)) {
    const o = s.outcomes
    const scores = [
      o.identity !== undefined ? `identity=${fmt(o.identity, 4)}` : '',
      o.pllPerResidue !== undefined ? `pll_per_residue=${fmt(o.pllPerResidue, 4)}` : '',
      o.ownActivation !== undefined ? `own_activation=${fmt(o.ownActivation, 4)}` : '',
      o.motifHits !== undefined ? `motif_hits=${o.motifHits}` : ''
    ]
      .filter(Boolean)
      .join(' ')
    out += `>${summary.id}|${condition.key}|${s.index} ${common} start=${s.startId} ${scores}`.trimEnd() + '\n'
    for (let i = 0; i < s.sequence.length; i += lineWidth) out += s.sequence.slice(i, i + lineWidth) + '\n'
  }
  return out
}

/** File-name-safe condition key ("set1/dose2" → "set1-dose2"). */
export function conditionFileKey(c: ExperimentCondition): string {
  return c.key.replace(/[^A-Za-z0-9_-]+/g, '-')
}

export function outcomeValues(
  summary: ExperimentSummary,
  seqs: ExperimentSequence[],
  outcome: NumericOutcome
): Map<number, number[]> {
  const setOf = new Map(summary.conditions.map(c => [c.condition.index, c.condition.setIndex ?? 0]))
  const m = new Map<number, number[]>()
  for (const s of seqs) {
    const v =
      outcome === 'targetActivation'
        ? s.outcomes.targetActivation[setOf.get(s.conditionIndex)!]
        : (s.outcomes[outcome] as number | undefined)
    if (v === undefined || !Number.isFinite(v)) continue
    const list = m.get(s.conditionIndex) ?? []
    list.push(v)
    m.set(s.conditionIndex, list)
  }
  return m
}

/** The plots (name → SVG). */
export function experimentPlots(summary: ExperimentSummary, seqs: ExperimentSequence[]): Record<string, string> {
  const plots: Record<string, string> = {
    'dose-response-target': doseResponseSvg(summary, 'targetActivation'),
    'distribution-target': distributionSvg(
      summary,
      outcomeValues(summary, seqs, 'targetActivation'),
      'targetActivation'
    ),
    'screening-f1-vs-effect': screeningSvg(summary)
  }
  if (summary.conditions.some(c => c.outcomes.pllPerResidue)) {
    plots['dose-response-pll'] = doseResponseSvg(summary, 'pllPerResidue')
    plots['distribution-pll'] = distributionSvg(summary, outcomeValues(summary, seqs, 'pllPerResidue'), 'pllPerResidue')
  }
  plots['dose-response-diversity'] = doseResponseSvg(summary, 'meanPairwiseIdentity')
  return plots
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function cell(o: OutcomeSummary | undefined): string {
  if (!o) return '<td>–</td>'
  const p = o.p === undefined ? '' : ` <span class="p">Δ ${o.diff!.toFixed(3)}, p=${o.p.toPrecision(2)}</span>`
  return `<td>${o.mean.toFixed(3)} <span class="ci">[${o.ci.lo.toFixed(3)}, ${o.ci.hi.toFixed(3)}]</span>${p}</td>`
}

export function experimentHtml(summary: ExperimentSummary, seqs: ExperimentSequence[]): string {
  const d = summary.design
  const p = summary.provenance
  const plots = experimentPlots(summary, seqs)
  const shown: NumericOutcome[] = NUMERIC_OUTCOMES.filter(k => summary.conditions.some(c => c.outcomes[k]))
  const condRows = summary.conditions
    .map(c => {
      const rate = (r?: { rate: number; ci: { lo: number; hi: number }; successes: number; n: number }): string =>
        r
          ? `<td>${r.successes}/${r.n} <span class="ci">[${r.ci.lo.toFixed(2)}, ${r.ci.hi.toFixed(2)}]</span></td>`
          : '<td>–</td>'
      return `<tr><td>${esc(c.condition.key)}</td><td>${esc(c.condition.label)}</td>${shown.map(k => cell(c.outcomes[k])).join('')}${rate(c.success)}${d.motif ? rate(c.motifRate) : ''}<td>${c.changedFeatures
        .slice(0, 5)
        .map(f => `f${f.feature} (${f.delta >= 0 ? '+' : ''}${f.delta.toFixed(3)})`)
        .join(', ')}</td></tr>`
    })
    .join('\n')
  const setRows = summary.clampSets
    .map(
      s =>
        `<tr><td>${esc(s.name)}</td><td>${s.bestDose ?? 'none'}</td><td>${s.success ? `${s.success.successes}/${s.success.n} (${(s.success.rate * 100).toFixed(0)}%, [${(s.success.ci.lo * 100).toFixed(0)}, ${(s.success.ci.hi * 100).toFixed(0)}]%)` : '–'}</td><td>${fmt(s.threshold, 4)}</td><td>${fmt(s.effect, 4)}</td><td>${fmt(s.randomEffect, 4)}</td></tr>`
    )
    .join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(d.name)}: steering experiment</title>
<style>
body{font-family:sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}.ci{color:#777}.p{color:#a33;display:block}pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:11px}
figure{display:inline-block;margin:0.5em}
</style></head><body>
<h1>${esc(d.name)}</h1>
<p>Experiment <code>${esc(summary.id)}</code>, summarised ${esc(summary.computedAt)}. Model ${esc(p.model)} (sha256 ${esc(p.modelHash.slice(0, 12))}), SAE ${esc(p.sae)} (sha256 ${esc(p.saeHash.slice(0, 12))}) at layer ${p.layer}.
Firing frequencies and max activations: ${esc(p.featureStatistics)}. Pseudo-log-likelihood: ${esc(p.pllMethod)}.
${d.n} sequences per condition, seed ${d.seed}, ${esc(d.generation.mode)} (temperature ${d.generation.temperature}, ${d.generation.rounds} rounds, mask fraction ${d.generation.maskFraction}).
Intervals: 95% percentile bootstrap of the mean (${d.bootstrap ?? 2000} resamples); rates: Wilson 95%; p: two-sided permutation test of the difference of means against the no-clamp control.</p>
<h2>Clamp sets</h2>
<table><tr><th>set</th><th>strongest dose within the likelihood margin (${d.likelihoodMargin ?? 0.1} nats/residue)</th><th>success rate there</th><th>success threshold</th><th>effect at the strongest dose</th><th>random controls' effect</th></tr>
${setRows}</table>
<h2>Screening: clamp sets ranked by their effect on the target activation</h2>
<table><tr><th>rank</th><th>set</th><th>features</th><th>best concept F1</th><th>effect (strongest dose − no clamp)</th><th>p</th></tr>
${summary.screening.map((s, k) => `<tr><td>${k + 1}</td><td>${esc(s.name)}</td><td>${s.features.join(', ')}</td><td>${fmt(s.f1, 3)}</td><td>${fmt(s.effect, 4)}</td><td>${s.p === undefined ? '–' : s.p.toPrecision(2)}</td></tr>`).join('\n')}</table>
<h2>Plots</h2>
${Object.entries(plots)
  .map(([k, svg]) => `<figure id="${k}">${svg}</figure>`)
  .join('\n')}
<h2>Conditions</h2>
<table><tr><th>key</th><th>condition</th>${shown.map(k => `<th>${esc(OUTCOME_LABELS[k])}</th>`).join('')}<th>success</th>${d.motif ? '<th>has motif</th>' : ''}<th>changed features (vs no clamp)</th></tr>
${condRows}</table>
<h2>Design</h2>
<pre>${esc(JSON.stringify(d, null, 2))}</pre>
</body></html>
`
}
