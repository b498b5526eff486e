/**
 * The steering runs of the project: a list to reopen one, the open run's export (FASTA, CSV, JSON) and its
 * results table (scores of each sequence and of the parent; compare, copy).
 */
import { useState } from 'react'
import type { SteeringRunRecord, SteeringRunSummary } from '@shared/steering-types'
import { formatNumber } from '@renderer/components/format'

const EXPORT_FORMATS = ['fasta', 'csv', 'json'] as const
export type RunExportFormat = (typeof EXPORT_FORMATS)[number]

export function SteeringRuns({
  runs,
  run,
  onOpenRun,
  onExport,
  onCompare
}: {
  runs: SteeringRunSummary[]
  run: SteeringRunRecord | null
  onOpenRun: (runId: string) => void
  onExport: (format: RunExportFormat) => void
  onCompare: (sequenceId: string) => void
}) {
  return (
    <section className="wb-panel">
      <div className="wb-panel-head">
        Runs of this project
        <select
          value={run?.id ?? ''}
          onChange={e => e.target.value && onOpenRun(e.target.value)}
          data-testid="steer-runs"
        >
          <option value="">{runs.length ? 'open a run…' : 'no runs yet'}</option>
          {runs.map(r => (
            <option key={r.id} value={r.id}>
              {r.createdAt.slice(0, 16).replace('T', ' ')} · {r.mode} × {r.n} ·{' '}
              {r.clamps.map(c => `f${c.feature}`).join(', ') || 'no clamp'}
              {r.parentId ? ` · from ${r.parentId}` : ''}
            </option>
          ))}
        </select>
        {run && (
          <span className="export-buttons">
            {EXPORT_FORMATS.map(f => (
              <button key={f} className="btn-small" onClick={() => onExport(f)} data-testid={`steer-export-${f}`}>
                {f.toUpperCase()}
              </button>
            ))}
          </span>
        )}
      </div>
      {run && <ResultsTable run={run} onCompare={onCompare} />}
    </section>
  )
}

function ResultsTable({ run, onCompare }: { run: SteeringRunRecord; onCompare: (id: string) => void }) {
  const features = run.clamps.map(c => c.feature)
  const rows = [
    ...(run.parent && run.parentScores
      ? [{ id: `parent ${run.parent.id}`, sequence: run.parent.sequence, scores: run.parentScores, parent: true }]
      : []),
    ...run.sequences.map(s => ({ ...s, parent: false }))
  ]
  return (
    <div className="steer-results" data-testid="steer-results" data-run-id={run.id}>
      <p className="muted">
        {run.provenance.model} + {run.provenance.sae} at layer {run.provenance.layer} · {run.settings.mode} · seed{' '}
        {run.settings.seed} · T {run.settings.temperature}
        {run.motif ? ` · motif ${run.motif}` : ''}
      </p>
      <table className="wb-table">
        <thead>
          <tr>
            <th>id</th>
            <th>identity</th>
            <th>PLL / residue</th>
            {features.map((f, k) => (
              <th key={k}>f{f} (re-encoded)</th>
            ))}
            {run.motif && <th>motif hits</th>}
            <th>sequence</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map(r => (
            <tr
              key={r.id}
              data-testid="steer-result-row"
              data-parent={r.parent ? 'true' : 'false'}
              className={r.parent ? 'muted' : undefined}
            >
              <td>{r.id}</td>
              <td>{r.scores.identity === undefined ? '–' : `${(100 * r.scores.identity).toFixed(1)}%`}</td>
              <td>{r.scores.pllPerResidue === undefined ? '–' : r.scores.pllPerResidue.toFixed(3)}</td>
              {r.scores.featureActivation.map((f, k) => (
                <td key={k}>{formatNumber(f.mean)}</td>
              ))}
              {run.motif && (
                <td title={(r.scores.motifHits ?? []).map(h => `${h.start}-${h.end} ${h.match}`).join('\n')}>
                  {r.scores.motifHits?.length ?? 0}
                </td>
              )}
              <td className="steer-seq" title={r.sequence}>
                {r.sequence.length > 60 ? `${r.sequence.slice(0, 60)}…` : r.sequence}
              </td>
              <td>
                {!r.parent && (
                  <button className="btn-small" onClick={() => onCompare(r.id)} data-testid="steer-compare-button">
                    compare
                  </button>
                )}{' '}
                <CopyButton text={r.sequence} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

/**
 * Writes text to the clipboard: the Clipboard API where the page may use it, else a selected text area and the copy
 * command (pages served over plain http from another host have no Clipboard API; a page without focus is refused).
 */
async function writeClipboard(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const area = document.createElement('textarea')
    area.value = text
    area.setAttribute('readonly', '')
    area.style.position = 'fixed'
    area.style.opacity = '0'
    document.body.appendChild(area)
    area.select()
    try {
      return document.execCommand('copy')
    } finally {
      area.remove()
    }
  }
}

/** Copies a full sequence to the clipboard (the table shows only its first 60 residues). */
function CopyButton({ text }: { text: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  const copy = async (): Promise<void> => {
    setState((await writeClipboard(text)) ? 'copied' : 'failed')
    setTimeout(() => setState('idle'), 1500)
  }
  return (
    <button
      className="btn-small"
      onClick={() => void copy()}
      data-testid="steer-copy"
      title={`Copy all ${text.length} residues`}
    >
      {state === 'copied' ? 'copied' : state === 'failed' ? 'copy failed: select the tooltip text' : 'copy'}
    </button>
  )
}
