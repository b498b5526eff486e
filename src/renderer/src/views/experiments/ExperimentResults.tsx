/**
 * Results of one experiment: the per-clamp-set summary, the d3 plots (dose-response with interval bands,
 * per-condition distributions of a chosen outcome, concept F1 against effect; each exportable as SVG/PNG, drawn
 * by the same shared code as the HTML report), the per-condition statistics, the sequences of a condition,
 * and any sequence opened in the protein view beside its start. Exports: CSV, JSON, FASTA, HTML report.
 */
import { useEffect, useMemo, useState, type ReactNode } from 'react'
import { api } from '@renderer/api'
import {
  NUMERIC_OUTCOMES,
  type ExperimentExportRequest,
  type ExperimentSequence,
  type ExperimentSummary,
  type NumericOutcome
} from '@shared/experiment-types'
import { distributionSvg, doseResponseSvg, OUTCOME_LABELS, screeningSvg } from '@shared/experiment-plots'
import { downloadDataUrl, downloadText, svgTextToPngDataUrl } from '@renderer/components/export-file'
import { ChoiceSelect } from '@renderer/components/choice-select'
import { BesideParent } from '../steering/BesideParent'

function Plot({ svg, name }: { svg: string; name: string }) {
  const size = /width="(\d+)" height="(\d+)"/.exec(svg)
  const exportAs = async (format: 'svg' | 'png'): Promise<void> => {
    if (format === 'svg') return downloadText(`${name}.svg`, svg, 'image/svg+xml')
    downloadDataUrl(`${name}.png`, await svgTextToPngDataUrl(svg, Number(size?.[1] ?? 640), Number(size?.[2] ?? 360)))
  }
  return (
    <figure className="exp-plot" data-testid={`exp-plot-${name}`}>
      <div dangerouslySetInnerHTML={{ __html: svg }} />
      <figcaption>
        <button className="btn-small" onClick={() => void exportAs('svg')}>
          SVG
        </button>
        <button className="btn-small" onClick={() => void exportAs('png')}>
          PNG
        </button>
      </figcaption>
    </figure>
  )
}

const fmt = (v: number | undefined, d = 3): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d))

export function ExperimentResults({
  projectId,
  experimentId,
  onOpenFeature
}: {
  projectId: string
  experimentId: string
  onOpenFeature: (f: number) => void
}) {
  const [summary, setSummary] = useState<ExperimentSummary | null>(null)
  const [all, setAll] = useState<ExperimentSequence[]>([])
  const [outcome, setOutcome] = useState<NumericOutcome>('targetActivation')
  const [condition, setCondition] = useState(0)
  const [open, setOpen] = useState<ExperimentSequence | null>(null)
  const [error, setError] = useState<string | null>(null)

  useEffect(() => {
    setSummary(null)
    setOpen(null)
    api.experimentSummary({ projectId, experimentId }).then(setSummary, (e: Error) => setError(e.message))
    api.experimentSequences({ projectId, experimentId, limit: 100_000 }).then(setAll, (e: Error) => setError(e.message))
  }, [projectId, experimentId])

  const values = useMemo(() => {
    const m = new Map<number, number[]>()
    if (!summary) return m
    const setOf = new Map(summary.conditions.map(c => [c.condition.index, c.condition.setIndex ?? 0]))
    for (const s of all) {
      const v =
        outcome === 'targetActivation'
          ? s.outcomes.targetActivation[setOf.get(s.conditionIndex) ?? 0]
          : (s.outcomes[outcome] as number | undefined)
      if (v === undefined || !Number.isFinite(v)) continue
      m.set(s.conditionIndex, [...(m.get(s.conditionIndex) ?? []), v])
    }
    return m
  }, [summary, all, outcome])

  if (error) return <div className="error">{error}</div>
  if (!summary) return <div className="muted">Loading the experiment…</div>
  const shown = NUMERIC_OUTCOMES.filter(k => summary.conditions.some(c => c.outcomes[k]))
  const seqs = all.filter(s => s.conditionIndex === condition)
  const start = open ? startOf(summary, open.startId) : undefined
  const exportAs = async (format: ExperimentExportRequest['format'], conditionIndex?: number): Promise<void> => {
    const r = await api.exportExperiment({
      projectId,
      experimentId,
      format,
      ...(conditionIndex !== undefined ? { conditionIndex } : {})
    })
    downloadText(r.fileName, r.text, r.mimeType)
  }

  return (
    <div className="exp-results" data-testid="experiment-results">
      <div className="exp-head">
        <h2>{summary.design.name}</h2>
        <span className="muted">
          {summary.id} · {summary.provenance.model} + {summary.provenance.sae} (layer {summary.provenance.layer}) · PLL{' '}
          {summary.provenance.pllMethod} · statistics from {summary.provenance.featureStatistics}
        </span>
        <span className="export-buttons">
          {(['html', 'csv', 'json', 'fasta'] as const).map(f => (
            <button
              key={f}
              className="btn-small"
              onClick={() => void exportAs(f).catch((e: Error) => setError(e.message))}
              data-testid={`exp-export-${f}`}
            >
              {f === 'html' ? 'HTML report' : f.toUpperCase()}
            </button>
          ))}
        </span>
      </div>
      <ExpTable
        head={
          <>
            <th>clamp set</th>
            <th>strongest dose within {summary.design.likelihoodMargin ?? 0.1} nats of control</th>
            <th>success there (Wilson 95%)</th>
            <th>effect at strongest dose</th>
            <th>random controls&apos; effect</th>
          </>
        }
      >
        {summary.clampSets.map(s => (
          <tr key={s.setIndex}>
            <td>{s.name}</td>
            <td>{s.bestDose ?? 'none'}</td>
            <td>
              {s.success
                ? `${s.success.successes}/${s.success.n} [${fmt(s.success.ci.lo, 2)}, ${fmt(s.success.ci.hi, 2)}]`
                : '–'}
            </td>
            <td>{fmt(s.effect)}</td>
            <td>{fmt(s.randomEffect)}</td>
          </tr>
        ))}
      </ExpTable>
      <label>
        outcome{' '}
        <ChoiceSelect
          value={outcome}
          choices={shown}
          labels={OUTCOME_LABELS}
          onChange={setOutcome}
          testId="exp-outcome"
        />
      </label>
      <div className="exp-plots">
        <Plot name={`dose-response-${outcome}`} svg={doseResponseSvg(summary, outcome)} />
        <Plot name={`distribution-${outcome}`} svg={distributionSvg(summary, values, outcome)} />
        <Plot name="screening-f1-vs-effect" svg={screeningSvg(summary)} />
      </div>
      {summary.screening.length > 1 && (
        <ExpTable
          testId="exp-screening"
          head={
            <>
              <th>rank by {OUTCOME_LABELS[outcome]}</th>
              <th>clamp set</th>
              <th>best concept F1</th>
              <th>effect (strongest dose − no clamp)</th>
              <th>p</th>
            </>
          }
        >
          {[...summary.screening]
            .sort((a, b) => (b.effects[outcome]?.diff ?? -Infinity) - (a.effects[outcome]?.diff ?? -Infinity))
            .map((s, k) => (
              <tr key={s.setIndex}>
                <td>{k + 1}</td>
                <td>{s.name}</td>
                <td>{fmt(s.f1)}</td>
                <td>{fmt(s.effects[outcome]?.diff)}</td>
                <td>{s.effects[outcome]?.p.toPrecision(2) ?? '–'}</td>
              </tr>
            ))}
        </ExpTable>
      )}
      <ExpTable
        wide
        head={
          <>
            <th>condition</th>
            {shown.map(k => (
              <th key={k}>{OUTCOME_LABELS[k]}</th>
            ))}
            <th>success</th>
            <th>changed features (vs no clamp)</th>
          </>
        }
      >
        {summary.conditions.map(c => (
          <tr
            key={c.condition.index}
            className={c.condition.index === condition ? 'selected' : ''}
            onClick={() => setCondition(c.condition.index)}
          >
            <td title={c.condition.key}>{c.condition.label}</td>
            {shown.map(k => {
              const o = c.outcomes[k]
              return (
                <td
                  key={k}
                  title={
                    o
                      ? `95% [${fmt(o.ci.lo)}, ${fmt(o.ci.hi)}]${o.p !== undefined ? `, Δ ${fmt(o.diff)}, p = ${o.p.toPrecision(2)}` : ''}`
                      : ''
                  }
                >
                  {fmt(o?.mean)}
                  {o?.p !== undefined && (
                    <span className={o.p < 0.05 ? 'exp-p sig' : 'exp-p'}> p={o.p.toPrecision(2)}</span>
                  )}
                </td>
              )
            })}
            <td>{c.success ? `${c.success.successes}/${c.success.n}` : '–'}</td>
            <td>
              {c.changedFeatures.slice(0, 3).map(f => (
                <button key={f.feature} className="link" onClick={() => onOpenFeature(f.feature)}>
                  f{f.feature} ({f.delta >= 0 ? '+' : ''}
                  {fmt(f.delta)})
                </button>
              ))}
            </td>
          </tr>
        ))}
      </ExpTable>
      <h3>
        Sequences of {summary.conditions[condition]?.condition.label}{' '}
        <button className="btn-small" onClick={() => void exportAs('fasta', condition)}>
          FASTA
        </button>
      </h3>
      <ExpTable
        testId="exp-sequences"
        wide
        head={
          <>
            <th>#</th>
            <th>start</th>
            <th>sequence</th>
            <th>identity</th>
            <th>PLL/res</th>
            <th>target</th>
            <th>diversity</th>
            <th />
          </>
        }
      >
        {seqs.map(s => (
          <tr key={s.index}>
            <td>{s.index}</td>
            <td>{s.startId}</td>
            <td className="mono">{s.sequence.length > 60 ? `${s.sequence.slice(0, 60)}…` : s.sequence}</td>
            <td>{fmt(s.outcomes.identity)}</td>
            <td>{fmt(s.outcomes.pllPerResidue)}</td>
            <td>{fmt(s.outcomes.targetActivation[summary.conditions[condition]?.condition.setIndex ?? 0])}</td>
            <td>{fmt(s.outcomes.meanPairwiseIdentity)}</td>
            <td>
              <button className="btn-small" onClick={() => setOpen(s)} data-testid="exp-open-sequence">
                open
              </button>
            </td>
          </tr>
        ))}
      </ExpTable>
      {open && (
        <section className="wb-panel" data-testid="exp-compare">
          <div className="wb-panel-head">
            {summary.id} {summary.conditions[open.conditionIndex]?.condition.key} #{open.index} beside its start
            <button className="btn-small" onClick={() => setOpen(null)}>
              close
            </button>
          </div>
          <BesideParent
            projectId={projectId}
            parent={start}
            parentStored={summary.design.start.kind === 'proteins'}
            parentTitle={start ? `Start ${start.id}` : 'No start (de novo)'}
            child={{ id: `${open.startId}-steered-${open.index}`, sequence: open.sequence }}
            childTitle={`Generated #${open.index}`}
            featureId={summary.design.clampSets[0]?.clamps[0]?.feature}
            onOpenFeature={onOpenFeature}
          />
        </section>
      )}
    </div>
  )
}

function startOf(summary: ExperimentSummary, id: string): { id: string; sequence: string } | undefined {
  const s = summary.design.start
  if (s.kind === 'sequences') return s.sequences.find(q => q.id === id)
  if (s.kind === 'proteins') return { id, sequence: '' }
  return undefined
}

/** A results table: `head` is its column titles (`<th>` cells), the children its rows; `wide` scrolls sideways. */
function ExpTable({
  head,
  testId,
  wide = false,
  children
}: {
  head: ReactNode
  testId?: string
  wide?: boolean
  children: ReactNode
}) {
  const table = (
    <table className="exp-table" data-testid={testId}>
      <thead>
        <tr>{head}</tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  )
  return wide ? <div className="exp-table-wrap">{table}</div> : table
}
