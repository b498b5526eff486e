/**
 * Concept report for the user's sequences (API `conceptReport`, engine/jobs/concept-report.ts): paste or upload
 * FASTA (one sequence or a family) or UniProt text. Per sequence, the predicted annotation tracks (one row per
 * concept, residues coloured by how many features agree), with the known annotations and per-concept agreement
 * for UniProt input; for a family, the features firing in most members and where, on the first sequence.
 */
import { useState, type ReactElement } from 'react'
import { api } from '@renderer/api'
import { DEFAULT_CONCEPT_F1_FLOOR } from '@shared/concept-floor'
import {
  ANNOTATION_LABELS,
  type AnnotationType,
  type ConceptReport,
  type ResidueAnnotation,
  type SequenceConceptReport
} from '@shared/store-types'
import { F1FloorInput } from '@renderer/components/concept-chip'
import { downloadText } from '@renderer/components/export-file'
import { conceptName } from '@renderer/components/concept-chip'

export interface ConceptReportViewProps {
  projectId: string
  onOpenFeature: (feature: number) => void
}

const name = (type: AnnotationType, note: string): string => conceptName(type, note)

export function ConceptReportView({ projectId, onOpenFeature }: ConceptReportViewProps) {
  const [text, setText] = useState('')
  const [floor, setFloor] = useState(DEFAULT_CONCEPT_F1_FLOOR)
  const [report, setReport] = useState<ConceptReport | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string | null>(null)

  const run = async (): Promise<void> => {
    setBusy(true)
    setError(null)
    try {
      setReport(await api.conceptReport({ projectId, text, floor }))
    } catch (e) {
      setError((e as Error).message)
    } finally {
      setBusy(false)
    }
  }
  const upload = async (file: File | undefined): Promise<void> => {
    if (file) setText(await file.text())
  }

  return (
    <div className="wb-view" data-testid="concept-report">
      <div className="wb-header">
        <h2>Concept report</h2>
        <span className="muted">what the project&apos;s features predict on your sequences</span>
        <span className="spacer" />
        {report && (
          <button
            type="button"
            className="btn"
            onClick={() =>
              downloadText('concept-report.json', `${JSON.stringify(report, null, 1)}\n`, 'application/json')
            }
          >
            Export JSON
          </button>
        )}
      </div>
      <div className="wb-panel">
        <textarea
          className="notes-input"
          rows={6}
          placeholder={
            '>seq1\nMKTAYIAKQR…\n>seq2 (a family: several records)\n…\n(or UniProt flat-file text: its annotations are compared with the predictions)'
          }
          value={text}
          onChange={e => setText(e.target.value)}
          aria-label="Sequences"
          data-testid="concept-report-input"
          style={{ width: '100%', fontFamily: 'monospace' }}
        />
        <div className="wb-toolbar">
          <input
            type="file"
            accept=".fasta,.fa,.faa,.dat,.txt"
            onChange={e => void upload(e.target.files?.[0])}
            aria-label="Upload FASTA or UniProt file"
          />
          <label title="A feature predicts a concept when its F1 for the concept is at least this">
            F1 floor
            <F1FloorInput value={floor} onChange={setFloor} />
          </label>
          <button
            type="button"
            className="btn btn-primary"
            disabled={busy || !text.trim()}
            onClick={() => void run()}
            data-testid="concept-report-run"
          >
            {busy ? 'Computing…' : 'Report'}
          </button>
        </div>
      </div>
      {error && <div className="error">{error}</div>}
      {report && (
        <>
          <div className="muted" data-testid="concept-report-summary">
            Run {report.runId}: {report.predictors.toLocaleString()} features predict concepts (F1 ≥ {report.floor}).
          </div>
          {report.sequences.map(s => (
            <SequenceReport key={s.id} report={s} onOpenFeature={onOpenFeature} />
          ))}
          {report.family && (
            <div className="wb-panel" data-testid="concept-report-family">
              <h3>
                Family: features firing in at least {Math.round(report.family.minFraction * 100)} % of the{' '}
                {report.sequences.length} sequences (on {report.family.reference})
              </h3>
              <table className="table">
                <thead>
                  <tr>
                    <th>Feature</th>
                    <th>Label / concept</th>
                    <th className="num">Members</th>
                    <th>Where (residues of {report.family.reference})</th>
                  </tr>
                </thead>
                <tbody>
                  {report.family.features.map(f => (
                    <tr key={f.feature}>
                      <td>
                        <button type="button" className="btn-small" onClick={() => onOpenFeature(f.feature)}>
                          #{f.feature}
                        </button>
                      </td>
                      <td>
                        {f.label ||
                          (f.bestConcept ? (
                            name(f.bestConcept.type, f.bestConcept.note ?? '')
                          ) : (
                            <span className="muted">—</span>
                          ))}
                      </td>
                      <td className="num">
                        {f.members} ({Math.round(f.fraction * 100)} %)
                      </td>
                      <td className="mono">
                        {f.segments.map(g => (g.start === g.end ? `${g.start}` : `${g.start}–${g.end}`)).join(', ') || (
                          <span className="muted">scattered</span>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </div>
  )
}

/** Tracks of one sequence: one row per predicted concept (colour = features agreeing), and the known annotations. */
function SequenceReport({
  report: s,
  onOpenFeature
}: {
  report: SequenceConceptReport
  onOpenFeature: (f: number) => void
}) {
  const L = s.sequence.length
  const width = 720
  const x = (r: number): number => (r / L) * width
  const knownTypes = [...new Set(s.known.map(a => a.type))]
  const row = (label: string, cells: ReactElement[], key: string, known = false): ReactElement => (
    <div key={key} style={{ display: 'flex', alignItems: 'center', gap: 8 }}>
      <span style={{ width: 200, textAlign: 'right' }} className={known ? 'muted' : ''}>
        {label}
      </span>
      <svg width={width} height={12} role="img" aria-label={label}>
        <rect x={0} y={5} width={width} height={2} fill="#ddd" />
        {cells}
      </svg>
    </div>
  )
  return (
    <div className="wb-panel" data-testid="concept-report-sequence">
      <h3>
        {s.id}{' '}
        <span className="muted">
          {s.description} · {L} aa
        </span>
      </h3>
      {s.predicted.length === 0 && <div className="muted">No concept predicted.</div>}
      {s.predicted.map(t => {
        const top = Math.max(1, ...t.support)
        const cells = t.support.flatMap((v, r) =>
          v > 0
            ? [
                <rect
                  key={r}
                  x={x(r)}
                  y={1}
                  width={Math.max(1, x(1))}
                  height={10}
                  fill="#c0392b"
                  opacity={0.35 + (0.65 * v) / top}
                />
              ]
            : []
        )
        return row(`${name(t.type, t.note)} (predicted)`, cells, `p-${t.type}-${t.note}`)
      })}
      {knownTypes.map(type =>
        row(
          `${ANNOTATION_LABELS[type]} (known)`,
          s.known
            .filter(a => a.type === type)
            .map((a: ResidueAnnotation, i) => (
              <rect
                key={i}
                x={x(a.start - 1)}
                y={3}
                width={Math.max(1, x(a.pairwise ? 1 : a.end - a.start + 1))}
                height={6}
                fill="#2c3e50"
              />
            )),
          `k-${type}`,
          true
        )
      )}
      {s.predicted.length > 0 && (
        <div className="muted small">
          Predicting features:{' '}
          {s.predicted.map(t => (
            <span key={`${t.type}-${t.note}`}>
              {name(t.type, t.note)}{' '}
              {t.features.slice(0, 8).map(f => (
                <button
                  key={f.feature}
                  type="button"
                  className="btn-small"
                  onClick={() => onOpenFeature(f.feature)}
                  title={`F1 ${f.f1.toFixed(2)}, ${f.residues} residues`}
                >
                  #{f.feature}
                </button>
              ))}{' '}
            </span>
          ))}
        </div>
      )}
      {s.agreement && (
        <table className="table" data-testid="concept-report-agreement">
          <thead>
            <tr>
              <th>Concept</th>
              <th className="num">Predicted</th>
              <th className="num">Known</th>
              <th className="num">Both</th>
              <th className="num">Precision</th>
              <th className="num">Recall</th>
              <th className="num">F1</th>
            </tr>
          </thead>
          <tbody>
            {s.agreement.map(a => (
              <tr key={`${a.type}-${a.note}`}>
                <td>{name(a.type, a.note)}</td>
                <td className="num">{a.predicted}</td>
                <td className="num">{a.known}</td>
                <td className="num">{a.both}</td>
                <td className="num">{a.precision.toFixed(2)}</td>
                <td className="num">{a.recall.toFixed(2)}</td>
                <td className="num">{a.f1.toFixed(2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}
