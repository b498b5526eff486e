/**
 * The plots of a steering experiment as self-contained SVG documents (d3 scales and shapes, no DOM), so that
 * the app's results view, the SVG/PNG export and the HTML report draw exactly the same picture:
 * - `doseResponseSvg`: per clamp set, the mean of an outcome against the dose with its 95% interval as a
 *   band; the no-clamp control as a dashed line with its band;
 * - `distributionSvg`: per condition, every sequence's value as a dot, with the mean and its interval;
 * - `screeningSvg`: per clamp set (candidate), concept F1 against the measured effect.
 */
import { area, line, scaleLinear, scaleOrdinal, schemeTableau10 } from 'd3'
import type { ExperimentSummary, NumericOutcome } from './experiment-types'

const W = 640
const H = 360
const M = { top: 24, right: 150, bottom: 48, left: 64 }

export const OUTCOME_LABELS: Record<NumericOutcome, string> = {
  targetActivation: 'target activation (re-encoded)',
  ownActivation: "own clamped features' activation",
  pllPerResidue: 'PLL per residue (nats)',
  identity: 'identity to start',
  meanPairwiseIdentity: 'mean pairwise identity',
  topResidueShare: 'top residue share',
  longestRun: 'longest single-residue run',
  lowComplexity: 'low-complexity fraction',
  compositionShift: 'composition shift (TV distance)',
  motifHits: 'motif hits'
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function num(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '0'
}

function frame(title: string, body: string, xLabel: string, yLabel: string, width = W): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif" font-size="11">` +
    `<rect width="${width}" height="${H}" fill="white"/>` +
    `<text x="${M.left}" y="15" font-size="13" font-weight="bold">${esc(title)}</text>` +
    body +
    `<text x="${M.left + (width - M.left - M.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text transform="translate(14,${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>` +
    '</svg>'
  )
}

function axes(
  x: (v: number) => number,
  y: ReturnType<typeof scaleLinear<number, number>>,
  xTicks: { v: number; label: string }[],
  width = W
): string {
  const y0 = H - M.bottom
  let s = `<line x1="${M.left}" x2="${width - M.right}" y1="${y0}" y2="${y0}" stroke="#333"/><line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${y0}" stroke="#333"/>`
  for (const t of xTicks) s += `<text x="${num(x(t.v))}" y="${y0 + 14}" text-anchor="middle">${esc(t.label)}</text>`
  for (const t of y.ticks(6))
    s += `<text x="${M.left - 6}" y="${num(y(t) + 4)}" text-anchor="end">${esc(String(t))}</text><line x1="${M.left}" x2="${width - M.right}" y1="${num(y(t))}" y2="${num(y(t))}" stroke="#eee"/>`
  return s
}

function extent(values: number[]): [number, number] {
  const v = values.filter(x => Number.isFinite(x))
  if (v.length === 0) return [0, 1]
  let lo = Math.min(...v)
  let hi = Math.max(...v)
  if (lo === hi) {
    lo -= 0.5
    hi += 0.5
  }
  const pad = (hi - lo) * 0.05
  return [lo - pad, hi + pad]
}

export function doseResponseSvg(summary: ExperimentSummary, outcome: NumericOutcome = 'targetActivation'): string {
  const doses = [
    ...new Set(summary.conditions.filter(c => c.condition.kind === 'dose').map(c => c.condition.dose!))
  ].sort((a, b) => a - b)
  const control = summary.conditions.find(c => c.condition.kind === 'no-clamp')
  const series = summary.design.clampSets.map((_, s) => ({
    s,
    name: summary.clampSets[s]?.name ?? `set ${s + 1}`,
    points: summary.conditions
      .filter(c => c.condition.kind === 'dose' && c.condition.setIndex === s && c.outcomes[outcome])
      .map(c => ({ dose: c.condition.dose!, ...c.outcomes[outcome]! }))
      .sort((a, b) => a.dose - b.dose)
  }))
  // the no-clamp control: one value per outcome, but per clamp set for the target activation (each set's features)
  const ctrls = control
    ? outcome === 'targetActivation'
      ? control.targetBySet.map((c, s) => ({ c, s }))
      : control.outcomes[outcome]
        ? [{ c: control.outcomes[outcome]!, s: -1 }]
        : []
    : []
  const all = series.flatMap(s => s.points.flatMap(p => [p.ci.lo, p.ci.hi]))
  for (const { c } of ctrls) all.push(c.ci.lo, c.ci.hi)
  const x = scaleLinear()
    .domain(extent(doses))
    .range([M.left, W - M.right])
  const y = scaleLinear()
    .domain(extent(all))
    .nice()
    .range([H - M.bottom, M.top])
  const colour = scaleOrdinal<number, string>(schemeTableau10)
  let body = axes(
    x,
    y,
    doses.map(d => ({ v: d, label: `${d}×` }))
  )
  for (const { c: ctrl, s } of ctrls) {
    const c = s < 0 ? '#666' : colour(s)
    body += `<rect x="${M.left}" width="${W - M.right - M.left}" y="${num(y(ctrl.ci.hi))}" height="${num(Math.max(0, y(ctrl.ci.lo) - y(ctrl.ci.hi)))}" fill="${s < 0 ? '#999' : c}" opacity="0.12"/>`
    body += `<line x1="${M.left}" x2="${W - M.right}" y1="${num(y(ctrl.mean))}" y2="${num(y(ctrl.mean))}" stroke="${c}" stroke-dasharray="5,4"><title>${esc(`no clamp${s < 0 ? '' : ` (${series[s]?.name ?? `set ${s + 1}`}'s features)`}: ${ctrl.mean.toFixed(3)} [${ctrl.ci.lo.toFixed(3)}, ${ctrl.ci.hi.toFixed(3)}]`)}</title></line>`
  }
  if (ctrls.length) body += `<text x="${W - M.right + 6}" y="${H - M.bottom - 4}" fill="#666">dashed: no clamp</text>`
  type P = (typeof series)[number]['points'][number]
  const band = area<P>()
    .x(p => x(p.dose))
    .y0(p => y(p.ci.lo))
    .y1(p => y(p.ci.hi))
  const mid = line<P>()
    .x(p => x(p.dose))
    .y(p => y(p.mean))
  series.forEach((s, k) => {
    if (s.points.length === 0) return
    const c = colour(s.s)
    body += `<path d="${band(s.points)}" fill="${c}" opacity="0.2"/><path d="${mid(s.points)}" fill="none" stroke="${c}" stroke-width="2"/>`
    for (const p of s.points)
      body += `<circle cx="${num(x(p.dose))}" cy="${num(y(p.mean))}" r="3" fill="${c}"><title>${esc(`${s.name} × ${p.dose}: ${p.mean.toFixed(3)} [${p.ci.lo.toFixed(3)}, ${p.ci.hi.toFixed(3)}]${p.p !== undefined ? ` p=${p.p.toPrecision(2)}` : ''}`)}</title></circle>`
    body += `<text x="${W - M.right + 6}" y="${M.top + 14 * (k + 1) + 10}" fill="${c}">${esc(s.name)}</text>`
  })
  return frame(
    `Dose response: ${OUTCOME_LABELS[outcome]}`,
    body,
    "dose (× each clamp's value)",
    OUTCOME_LABELS[outcome]
  )
}

export function distributionSvg(
  summary: ExperimentSummary,
  values: Map<number, number[]>,
  outcome: NumericOutcome
): string {
  const conds = summary.conditions
  const width = Math.max(W, M.left + M.right + conds.length * 28)
  const all = [...values.values()].flat()
  const x = (i: number): number => M.left + ((i + 0.5) * (width - M.left - M.right)) / conds.length
  const y = scaleLinear()
    .domain(extent(all))
    .nice()
    .range([H - M.bottom, M.top])
  const colour = scaleOrdinal<string, string>(schemeTableau10)
  let body = axes(x, y, [], width)
  conds.forEach((c, i) => {
    const v = values.get(c.condition.index) ?? []
    const col = colour(c.condition.kind)
    v.forEach((val, k) => {
      const jitter = (((k * 2654435761) % 1000) / 1000 - 0.5) * 12
      body += `<circle cx="${num(x(i) + jitter)}" cy="${num(y(val))}" r="2" fill="${col}" opacity="0.6"/>`
    })
    const sm =
      outcome === 'targetActivation' && c.condition.kind === 'no-clamp' ? c.targetBySet[0] : c.outcomes[outcome]
    if (sm) {
      body += `<line x1="${num(x(i))}" x2="${num(x(i))}" y1="${num(y(sm.ci.lo))}" y2="${num(y(sm.ci.hi))}" stroke="#000" stroke-width="2"/>`
      body += `<line x1="${num(x(i) - 7)}" x2="${num(x(i) + 7)}" y1="${num(y(sm.mean))}" y2="${num(y(sm.mean))}" stroke="#000" stroke-width="2"><title>${esc(`${c.condition.label}: ${sm.mean.toFixed(3)}`)}</title></line>`
    }
    body += `<text transform="translate(${num(x(i) + 3)},${H - M.bottom + 6}) rotate(45)" font-size="8">${esc(c.condition.key)}</text>`
  })
  return frame(`Per condition: ${OUTCOME_LABELS[outcome]}`, body, '', OUTCOME_LABELS[outcome], width)
}

export function screeningSvg(summary: ExperimentSummary): string {
  const pts = summary.screening.filter(s => s.effect !== undefined)
  const x = scaleLinear()
    .domain([0, 1])
    .range([M.left, W - M.right])
  const y = scaleLinear()
    .domain(extent(pts.map(p => p.effect!)))
    .nice()
    .range([H - M.bottom, M.top])
  let body = axes(
    v => x(v),
    y,
    [0, 0.25, 0.5, 0.75, 1].map(v => ({ v, label: String(v) }))
  )
  for (const p of pts) {
    const fx = p.f1 ?? 0
    body += `<circle cx="${num(x(fx))}" cy="${num(y(p.effect!))}" r="4" fill="${p.f1 === undefined ? 'none' : '#4e79a7'}" stroke="#4e79a7"><title>${esc(`${p.name}: F1 ${p.f1?.toFixed(3) ?? 'unknown'}, effect ${p.effect!.toFixed(3)}${p.p !== undefined ? `, p=${p.p.toPrecision(2)}` : ''}`)}</title></circle>`
    body += `<text x="${num(x(fx) + 6)}" y="${num(y(p.effect!) + 3)}" font-size="9">${esc(p.name)}</text>`
  }
  return frame(
    'Concept F1 against steering effect (strongest dose − no clamp)',
    body,
    'best concept F1 (open circle: unknown)',
    'effect on target activation'
  )
}
