/**
 * One feature: statistics, the activation histogram with quantiles, the concept association table, label and
 * notes (saved to the store), the top proteins with per-residue tracks over their annotations, and samples
 * from each activation-quantile bucket.
 */
import { useCallback, useEffect, useRef, useState } from 'react'
import { api } from '@renderer/api'
import { conceptName, useConceptFloor } from '@renderer/components/concept-chip'
import { type FeatureDetail, type FeatureProteinActivation } from '@shared/store-types'
import { downloadText, toCsv } from '@renderer/components/export-file'
import { formatNumber, formatPercent } from '@renderer/components/format'
import { PanelHead } from '@renderer/components/panel-head'
import { useAsync, useElementWidth } from '@renderer/components/use-async'
import { ActivationTrack } from '@renderer/plots/ActivationTrack'
import { ActivationHistogram } from '@renderer/plots/Histogram'
import { HighlightedSequence, HIGHLIGHT_FLANK } from '@renderer/plots/HighlightedSequence'

export interface FeatureDetailProps {
  projectId: string
  featureId: number
  onOpenProtein: (protein: string, feature: number) => void
  onOpenFeature: (feature: number) => void
  onBack?: () => void
  /** Opens Steering with a clamp on this feature. */
  onSteer?: (feature: number) => void
}

export function FeatureDetailView({
  projectId,
  featureId,
  onOpenProtein,
  onOpenFeature,
  onBack,
  onSteer
}: FeatureDetailProps) {
  const rootRef = useRef<HTMLDivElement>(null)
  const width = useElementWidth(rootRef, 1000)
  const loadDetail = useCallback(() => api.featureDetail({ projectId, feature: featureId }), [projectId, featureId])
  const detail = useAsync(loadDetail)
  const d = detail.data
  const [conceptFloor] = useConceptFloor()
  const [jump, setJump] = useState(String(featureId))
  useEffect(() => setJump(String(featureId)), [featureId])

  return (
    <div className="wb-view" ref={rootRef} data-testid="feature-detail" data-feature={featureId}>
      <div className="wb-header">
        {onBack && (
          <button type="button" className="btn" onClick={onBack}>
            ← Features
          </button>
        )}
        <h2>
          Feature <span className="mono">#{featureId}</span>
          {d?.label ? ` · ${d.label}` : ''}
        </h2>
        {d?.summary.bestConcept && (
          <span
            className={d.summary.bestConcept.f1 < conceptFloor ? 'wb-chip concept below-floor' : 'wb-chip concept'}
            data-testid="concept-chip"
            data-below-floor={d.summary.bestConcept.f1 < conceptFloor ? 'true' : 'false'}
            title={
              d.summary.bestConcept.f1 < conceptFloor
                ? `below the concept floor F1 ${conceptFloor.toFixed(2)}: not a finding`
                : undefined
            }
          >
            {conceptName(d.summary.bestConcept.type, d.summary.bestConcept.note)} · F1{' '}
            {d.summary.bestConcept.f1.toFixed(2)}
          </span>
        )}
        {d?.summary.dead && <span className="wb-chip">dead</span>}
        <span className="spacer" />
        {onSteer && d && !d.summary.dead && (
          <button
            type="button"
            className="btn"
            onClick={() => onSteer(featureId)}
            data-testid="steer-this-feature"
            title="Open Steering with a clamp on this feature"
          >
            Steer this feature
          </button>
        )}
        <form
          className="wb-toolbar"
          onSubmit={e => {
            e.preventDefault()
            const n = Number(jump)
            if (Number.isInteger(n) && n >= 0) onOpenFeature(n)
          }}
        >
          <button
            type="button"
            className="btn"
            disabled={featureId <= 0}
            onClick={() => onOpenFeature(featureId - 1)}
            title="Previous feature"
          >
            ‹
          </button>
          <input
            type="number"
            min={0}
            value={jump}
            onChange={e => setJump(e.target.value)}
            style={{ width: 90 }}
            aria-label="Go to feature"
          />
          <button type="submit" className="btn">
            Go
          </button>
          <button type="button" className="btn" onClick={() => onOpenFeature(featureId + 1)} title="Next feature">
            ›
          </button>
          <a
            className="btn"
            href={`#/experiments?features=${featureId}`}
            title="Measure how clamping this feature steers generation: doses, controls and statistics"
            data-testid="experiment-this-feature"
          >
            Experiment…
          </a>
        </form>
      </div>
      {detail.error && <div className="error">{detail.error}</div>}
      {!d && !detail.error && <div className="loading">Loading feature #{featureId}…</div>}
      {d && (
        <FeatureDetailBody
          key={`${projectId}:${featureId}`}
          detail={d}
          width={width}
          projectId={projectId}
          featureId={featureId}
          onOpenProtein={onOpenProtein}
        />
      )}
    </div>
  )
}

function FeatureDetailBody({
  detail: d,
  width,
  projectId,
  featureId,
  onOpenProtein
}: {
  detail: FeatureDetail
  width: number
  projectId: string
  featureId: number
  onOpenProtein: (protein: string, feature: number) => void
}) {
  const half = Math.max(280, Math.floor((width - 40 - 12) / (width > 1100 ? 2 : 1)) - 30)
  const full = Math.max(300, width - 40 - 30)
  const [hovered, setHovered] = useState<{ protein: number; residue: number } | null>(null)
  const qMarks = d.quantiles
    .filter(q => q.p === 0.5 || q.p === 0.9 || q.p === 0.99)
    .map(q => ({ value: q.value, label: `p${Math.round(q.p * 100)}` }))
    .filter((m, i, all) => i === 0 || Math.abs(m.value - all[i - 1].value) > 0.04 * (d.stats.max || 1))
  return (
    <>
      <div className="wb-panel wb-stats" data-testid="feature-stats">
        <Stat
          label="residues firing"
          value={formatPercent(d.stats.freqResidue)}
          sub={`${d.stats.firingResidues.toLocaleString()} of ${d.stats.totalResidues.toLocaleString()}`}
        />
        <Stat
          label="proteins firing"
          value={formatPercent(d.stats.freqProtein)}
          sub={`${d.stats.firingProteins.toLocaleString()} of ${d.stats.totalProteins.toLocaleString()}`}
        />
        <Stat label="max activation" value={formatNumber(d.stats.max)} />
        <Stat
          label="mean (nonzero)"
          value={formatNumber(d.stats.meanNonzero)}
          sub={`sd ${formatNumber(d.stats.stdNonzero)}`}
        />
        {d.quantiles.length > 0 && (
          <Stat
            label="quantiles (nonzero)"
            value={d.quantiles.map(q => `${Math.round(q.p * 100)}%: ${formatNumber(q.value)}`).join(' · ')}
            small
          />
        )}
      </div>
      <div className="wb-grid-2">
        <div className="wb-panel">
          <ActivationHistogram
            histogram={d.histogram}
            width={half}
            marks={qMarks}
            exportName={`feature-${featureId}-histogram`}
          />
        </div>
        <ConceptTable detail={d} featureId={featureId} />
      </div>
      <LabelEditor
        projectId={projectId}
        featureId={featureId}
        initialLabel={d.label}
        initialNotes={d.notes}
        runId={d.runId}
      />
      <div className="wb-panel" data-testid="top-proteins">
        <PanelHead
          title="Top proteins"
          note={`by max activation · bars scaled to the feature’s max (${formatNumber(d.stats.max)}) · click a name to open the protein`}
        />
        {d.topProteins.length === 0 && <div className="muted">This feature does not fire on any indexed protein.</div>}
        {d.topProteins.map((p, k) => (
          <ProteinTrack
            key={`${p.protein.id}-${k}`}
            p={p}
            width={full}
            max={d.stats.max}
            featureId={featureId}
            onOpenProtein={onOpenProtein}
            hovered={hovered?.protein === k ? hovered.residue : null}
            onHover={r => setHovered(r === null ? null : { protein: k, residue: r })}
          />
        ))}
      </div>
      {d.topProteins.length > 0 && (
        <div className="wb-panel" data-testid="top-sequences">
          <PanelHead
            title="Top examples as sequences"
            note={`${HIGHLIGHT_FLANK} residues each side of the peak, letters on the activation colour (scale max ${formatNumber(d.stats.max)})`}
          />
          {d.topProteins.map((p, k) => (
            <HighlightedSequence
              key={`${p.protein.id}-${k}`}
              name={p.protein.accession}
              sequence={p.sequence}
              activations={p.activations}
              argmax={p.argmax}
              max={d.stats.max}
              onOpen={() => onOpenProtein(p.protein.accession, featureId)}
            />
          ))}
        </div>
      )}
      {d.quantileSamples.length > 0 && (
        <div className="wb-panel" data-testid="quantile-samples">
          <PanelHead
            title="Samples by activation quantile"
            note="proteins whose max activation falls in each bucket, from the highest down"
          />
          {[...d.quantileSamples].reverse().map(b => (
            <details key={b.bucket} open={b.bucket === d.quantileSamples.length - 1}>
              <summary style={{ cursor: 'pointer', padding: '4px 0' }}>
                Bucket {b.bucket + 1}: max {formatNumber(b.lower)} – {formatNumber(b.upper)}{' '}
                <span className="muted">({b.proteins.length} proteins)</span>
              </summary>
              {b.proteins.map((p, k) => (
                <ProteinTrack
                  key={`${b.bucket}-${p.protein.id}-${k}`}
                  p={p}
                  width={full}
                  max={d.stats.max}
                  featureId={featureId}
                  onOpenProtein={onOpenProtein}
                  compact
                />
              ))}
            </details>
          ))}
        </div>
      )}
    </>
  )
}

function Stat({ label, value, sub, small }: { label: string; value: string; sub?: string; small?: boolean }) {
  return (
    <div className="wb-stat">
      <b style={small ? { fontSize: 12, fontWeight: 500 } : undefined}>{value}</b>
      <span>
        {label}
        {sub ? ` · ${sub}` : ''}
      </span>
    </div>
  )
}

function ProteinTrack({
  p,
  width,
  max,
  featureId,
  onOpenProtein,
  compact,
  hovered = null,
  onHover
}: {
  p: FeatureProteinActivation
  width: number
  max: number
  featureId: number
  onOpenProtein: (protein: string, feature: number) => void
  compact?: boolean
  hovered?: number | null
  onHover?: (r: number | null) => void
}) {
  return (
    <div
      className="protein-track"
      style={{ margin: '6px 0 10px' }}
      data-testid="protein-track"
      data-accession={p.protein.accession}
    >
      <div className="protein-track-head">
        <button
          type="button"
          className="btn-small"
          style={{ marginLeft: 0, color: 'var(--wb-accent)', fontSize: 12 }}
          onClick={() => onOpenProtein(p.protein.accession, featureId)}
          data-testid="open-protein"
        >
          {p.protein.accession}
        </button>
        <span>{p.protein.name}</span>
        <span className="muted">
          {p.protein.organism ? `${p.protein.organism} · ` : ''}
          {p.protein.length} aa · max {formatNumber(p.max)} at {p.sequence[p.argmax - 1] ?? ''}
          {p.argmax} · {p.firingResidues} residue{p.firingResidues === 1 ? '' : 's'} firing
        </span>
      </div>
      <ActivationTrack
        sequence={p.sequence}
        activations={p.activations}
        max={max}
        annotations={compact ? [] : p.annotations}
        width={width}
        barHeight={compact ? 22 : 36}
        showExport={!compact}
        exportName={`feature-${featureId}-${p.protein.accession}`}
        hovered={hovered}
        onHover={onHover}
      />
    </div>
  )
}

function ConceptTable({ detail: d, featureId }: { detail: FeatureDetail; featureId: number }) {
  const [conceptFloor] = useConceptFloor()
  const exportCsv = (): void => {
    const text = toCsv(
      [
        'concept',
        'note',
        'threshold',
        'precision',
        'recall',
        'f1',
        'true_positives',
        'predicted',
        'positives',
        'domain_threshold',
        'domain_precision',
        'domain_recall',
        'domain_f1',
        'found_instances',
        'instances'
      ],
      d.concepts.map(c => [
        c.type,
        c.note ?? '',
        c.threshold,
        c.precision,
        c.recall,
        c.f1,
        c.truePositives,
        c.predicted,
        c.positives,
        c.domain?.threshold ?? '',
        c.domain?.precision ?? '',
        c.domain?.recall ?? '',
        c.domain?.f1 ?? '',
        c.domain?.foundInstances ?? '',
        c.domain?.instances ?? ''
      ])
    )
    downloadText(`feature-${featureId}-concepts.csv`, text, 'text/csv')
  }
  return (
    <div className="wb-panel" data-testid="concept-table">
      <div className="wb-panel-head">
        <h3>Concept association</h3>
        <span className="spacer" />
        <button
          type="button"
          className="btn-small"
          onClick={exportCsv}
          disabled={d.concepts.length === 0}
          title="Export the concept table as CSV"
        >
          CSV
        </button>
      </div>
      {d.labelCard?.text && (
        <div
          className="muted"
          data-testid="label-card"
          title="Generated from the statistics (no LLM): concepts with F1 above the floor, activation pattern, position and amino-acid enrichment on the top proteins, 3D clustering where the project has their structures"
        >
          <span className="wb-chip">generated</span> <em>{d.labelCard.text}</em>
          {d.labelCard.structure && (
            <div className="small" data-testid="label-card-3d">
              3D: {d.labelCard.structure.residues} firing residues on {d.labelCard.structure.chains.join(', ')} · p ={' '}
              {d.labelCard.structure.p.toPrecision(2)} ({d.labelCard.structure.permutations} random sets of the same
              sizes; clusters when p ≤ 0.01)
            </div>
          )}
        </div>
      )}
      {d.conceptScoring && (
        <div className="muted small" data-testid="concept-scoring">
          False positives counted on{' '}
          {d.conceptScoring.falsePositives === 'all' ? 'every indexed protein' : 'annotated proteins only'}
          {d.conceptScoring.splitTypes.length > 0
            ? ` · split by note: ${d.conceptScoring.splitTypes.map(t => conceptName(t)).join(', ')}`
            : ''}
          {d.conceptScoring.minInstances > 1
            ? ` · concepts with at least ${d.conceptScoring.minInstances} instances`
            : ''}
        </div>
      )}
      {d.concepts.length === 0 ? (
        <div className="muted">
          No annotation concept associates with this feature (or the proteins have no annotations).
        </div>
      ) : (
        <div className="table-scroll">
          <table className="table">
            <thead>
              <tr>
                <th>Concept</th>
                <th className="num">F1</th>
                <th className="num">Precision</th>
                <th className="num">Recall</th>
                <th className="num">Threshold</th>
                <th className="num">TP / predicted</th>
                <th
                  className="num"
                  title="InterPLM: residue precision with per-domain recall (an annotation instance is found when at least one of its residues fires), at its own best threshold"
                >
                  InterPLM F1
                </th>
                <th className="num" title="Annotation instances found / instances (residues for per-residue concepts)">
                  Found
                </th>
              </tr>
            </thead>
            <tbody>
              {d.concepts.map(c => (
                <tr key={`${c.type}:${c.note ?? ''}`}>
                  <td className={Math.max(c.f1, c.domain?.f1 ?? 0) < conceptFloor ? 'muted' : undefined}>
                    {conceptName(c.type, c.note)}
                  </td>
                  <td className="num">
                    <F1Bar f1={c.f1} />
                  </td>
                  <td className="num">{c.precision.toFixed(2)}</td>
                  <td className="num">{c.recall.toFixed(2)}</td>
                  <td className="num">{Math.round(c.threshold * 100)}% of max</td>
                  <td className="num">
                    {c.truePositives.toLocaleString()} / {c.predicted.toLocaleString()}
                  </td>
                  <td className="num">{c.domain ? <F1Bar f1={c.domain.f1} /> : <span className="muted">—</span>}</td>
                  <td className="num">
                    {c.domain
                      ? `${c.domain.foundInstances.toLocaleString()} / ${c.domain.instances.toLocaleString()}`
                      : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  )
}

function F1Bar({ f1 }: { f1: number }) {
  return (
    <span style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}>
      <span style={{ display: 'inline-block', width: 50, height: 6, background: '#eef0f3', borderRadius: 3 }}>
        <span
          style={{
            display: 'block',
            width: `${Math.round(f1 * 100)}%`,
            height: 6,
            background: '#e8833a',
            borderRadius: 3
          }}
        />
      </span>
      {f1.toFixed(2)}
    </span>
  )
}

function LabelEditor({
  projectId,
  featureId,
  initialLabel,
  initialNotes,
  runId
}: {
  projectId: string
  featureId: number
  initialLabel: string
  initialNotes: string
  runId: number
}) {
  const [label, setLabel] = useState(initialLabel)
  const [notes, setNotes] = useState(initialNotes)
  const [saved, setSaved] = useState({ label: initialLabel, notes: initialNotes })
  const [state, setState] = useState<{ kind: 'idle' | 'saving' | 'saved' } | { kind: 'error'; message: string }>({
    kind: 'idle'
  })
  const dirty = label !== saved.label || notes !== saved.notes
  const save = async (): Promise<void> => {
    setState({ kind: 'saving' })
    try {
      const res = await api.updateFeatureLabel({ projectId, runId, feature: featureId, label, notes })
      setSaved({ label: res.label, notes: res.notes })
      setLabel(res.label)
      setNotes(res.notes)
      setState({ kind: 'saved' })
    } catch (e) {
      setState({ kind: 'error', message: (e as Error).message })
    }
  }
  return (
    <div className="wb-panel" data-testid="label-editor">
      <div className="wb-panel-head">
        <h3>Label and notes</h3>
      </div>
      <form
        onSubmit={e => {
          e.preventDefault()
          void save()
        }}
        style={{
          display: 'grid',
          gridTemplateColumns: 'minmax(200px, 1fr) minmax(300px, 3fr) auto',
          gap: 10,
          alignItems: 'start'
        }}
      >
        <input
          type="text"
          placeholder="Label, e.g. “zinc-finger cysteines”"
          value={label}
          maxLength={200}
          onChange={e => setLabel(e.target.value)}
          aria-label="Feature label"
          data-testid="feature-label-input"
        />
        <textarea
          className="notes-input"
          placeholder="Notes"
          value={notes}
          onChange={e => setNotes(e.target.value)}
          aria-label="Feature notes"
          data-testid="feature-notes-input"
          rows={2}
        />
        <div style={{ display: 'flex', flexDirection: 'column', gap: 4 }}>
          <button
            type="submit"
            className="btn btn-primary"
            disabled={!dirty || state.kind === 'saving'}
            data-testid="feature-label-save"
          >
            {state.kind === 'saving' ? 'Saving…' : 'Save'}
          </button>
          <span className="muted" style={{ fontSize: 11 }} data-testid="feature-label-status">
            {state.kind === 'saved' && !dirty ? 'Saved' : state.kind === 'error' ? '' : dirty ? 'Unsaved changes' : ''}
          </span>
        </div>
      </form>
      {state.kind === 'error' && (
        <div className="error" style={{ marginTop: 6 }}>
          {state.message}
        </div>
      )}
    </div>
  )
}
