/**
 * The steering panel: pick SAE features (search, or from the feature browser), one slider each with its mode
 * and residue range; a starting protein (from the project or pasted) or a de novo length; generation settings;
 * a live preview of how the clamps shift per-position amino-acid probabilities; generate as a job with progress
 * and cancel; the results table with scores; compare any result with its parent in the protein view; the runs
 * of the project (saved, re-openable) and their export as FASTA, CSV or JSON.
 */
import { useEffect, useEffectEvent, useMemo, useRef, useState } from 'react'
import { api, useJobs } from '@renderer/api'
import type { FeatureSummary } from '@shared/store-types'
import type { PastedRecord } from '@shared/sequence-text'
import {
  CLAMP_MODES,
  DEFAULT_GENERATION,
  GENERATION_MODES,
  type ClampMode,
  type ClampSpec,
  type GenerationSettings,
  type SteeringPreview,
  type SteeringRunRecord,
  type SteeringRunSummary
} from '@shared/steering-types'
import { downloadText } from '@renderer/components/export-file'
import { formatNumber } from '@renderer/components/format'
import { conceptName } from '@renderer/components/concept-chip'
import { useElementWidth } from '@renderer/components/use-async'
import { PastedRecordChoice } from '../protein/PastedRecordChoice'
import { ProteinPicker } from '../protein/ProteinPicker'
import { ProteinView } from '../protein/ProteinView'
import { SequenceDiff } from './SequenceDiff'
import { ShiftHeatmap } from './ShiftHeatmap'
import { shiftMatrix } from './shift-heatmap'

interface ClampRow {
  feature: number
  label: string
  /** The feature's max activation in the project (slider scale), 0 when unknown. */
  max: number
  mode: ClampMode
  value: number
  range: { start: number; end: number } | null
}

interface StartSequence {
  id: string
  sequence: string
  /** The store accession when picked from the project. */
  accession?: string
  /** Every record of the paste it came from, when it held several (the others are offered). */
  pasted?: PastedRecord[]
}

const PREVIEW_DELAY_MS = 350

function sliderBounds(c: ClampRow): { min: number; max: number; step: number } {
  if (c.mode === 'multiple-of-max') return { min: 0, max: 5, step: 0.05 }
  const scale = c.max > 0 ? c.max : 10
  if (c.mode === 'add-to-natural') return { min: -2 * scale, max: 2 * scale, step: scale / 100 }
  return { min: 0, max: 3 * scale, step: scale / 100 }
}

function toSpecs(clamps: ClampRow[]): ClampSpec[] {
  return clamps.map(c => ({ feature: c.feature, mode: c.mode, value: c.value, ...(c.range ? { range: c.range } : {}) }))
}

/** Sampling defaults per mode: edit is deterministic (argmax) like its preview; the sampling modes draw several. */
const MODE_DEFAULTS: Record<GenerationSettings['mode'], Pick<GenerationSettings, 'temperature' | 'n'>> = {
  edit: { temperature: 0, n: 1 },
  resample: { temperature: 1, n: 10 },
  denovo: { temperature: 1, n: 10 }
}

export function SteeringView({
  projectId,
  initialFeature,
  onOpenFeature
}: {
  projectId: string
  initialFeature?: number
  onOpenFeature: (f: number) => void
}) {
  const [clamps, setClamps] = useState<ClampRow[]>([])
  const [start, setStart] = useState<StartSequence | null>(null)
  // Edit mode starts at argmax (temperature 0, one sequence): exactly the changes the preview shows.
  const [settings, setSettings] = useState<GenerationSettings>({
    ...DEFAULT_GENERATION,
    ...MODE_DEFAULTS.edit,
    length: 100
  })
  const [motif, setMotif] = useState('')
  const [pll, setPll] = useState(false)
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState<{ jobId: string; runId: string } | null>(null)
  const [runs, setRuns] = useState<SteeringRunSummary[]>([])
  const [run, setRun] = useState<SteeringRunRecord | null>(null)
  const [compare, setCompare] = useState<string | null>(null)
  const jobs = useJobs()
  const job = pending ? jobs.find(j => j.id === pending.jobId) : undefined

  const addFeature = async (feature: number): Promise<void> => {
    if (clamps.some(c => c.feature === feature)) return
    let label = ''
    let max = 0
    try {
      const page = await api.listFeatures({ projectId, ids: [feature], limit: 1 })
      if (page.items[0]) ({ label, max } = page.items[0])
    } catch {
      // not indexed: slider on a default scale
    }
    // (checked again here: a second click while the first lookup ran must not add the feature twice)
    setClamps(cs =>
      cs.some(c => c.feature === feature)
        ? cs
        : [...cs, { feature, label, max, mode: 'absolute', value: max > 0 ? max : 5, range: null }]
    )
  }

  const addInitialFeature = useEffectEvent((feature: number) => void addFeature(feature))
  useEffect(() => {
    if (initialFeature !== undefined) addInitialFeature(initialFeature)
  }, [initialFeature])

  const reloadRuns = (): void => {
    api.listSteeringRuns({ projectId }).then(setRuns, (e: Error) => setError(e.message))
  }
  useEffect(reloadRuns, [projectId])

  // the job ended: open its run
  const jobState = job?.state
  const onJobStateChange = useEffectEvent(() => {
    if (!pending || !job || job.state === 'running' || job.state === 'queued') return
    if (job.state === 'done') {
      api.steeringRun({ projectId, runId: pending.runId }).then(setRun, (e: Error) => setError(e.message))
      reloadRuns()
    } else if (job.state === 'failed') setError(job.error ?? 'The steering job failed.')
    setPending(null)
  })
  useEffect(() => onJobStateChange(), [jobState])

  const request = () => ({
    projectId,
    clamps: toSpecs(clamps),
    settings: settings.mode === 'denovo' ? settings : { ...settings, length: undefined },
    pll,
    ...(motif.trim() ? { motif: motif.trim() } : {}),
    ...(settings.mode !== 'denovo' && start ? { start: { id: start.id, sequence: start.sequence } } : {})
  })

  const generate = async (): Promise<void> => {
    setError(null)
    try {
      const r = await api.startSteering(request())
      setPending({ jobId: r.job.id, runId: r.runId })
    } catch (e) {
      setError((e as Error).message)
    }
  }

  const exportRun = async (format: 'fasta' | 'csv' | 'json'): Promise<void> => {
    if (!run) return
    const r = await api.exportSteeringRun({ projectId, runId: run.id, format })
    downloadText(r.fileName, r.text, r.mimeType)
  }

  const compared = run?.sequences.find(s => s.id === compare)
  // the parent is shown as the project's protein (annotations, structures) when it is one
  const [parentStored, setParentStored] = useState(false)
  useEffect(() => {
    let live = true
    setParentStored(false)
    if (run?.parent) {
      const parent = run.parent
      api.proteinDetail({ projectId, protein: parent.id }).then(
        d => live && setParentStored(d.sequence === parent.sequence),
        () => undefined
      )
    }
    return () => {
      live = false
    }
  }, [projectId, run])
  return (
    <div className="wb-view steering" data-testid="steering-view">
      <div className="wb-header">
        <h2>Steering</h2>
        <span className="muted">Clamp SAE features at the SAE's layer and let ESM2 write sequences under them</span>
      </div>
      {error && (
        <div className="panel error" role="alert" data-testid="steering-error">
          {error}
        </div>
      )}
      <div className="steer-grid">
        <section className="wb-panel">
          <div className="wb-panel-head">Features</div>
          <FeatureSearch projectId={projectId} onAdd={f => void addFeature(f)} />
          {clamps.length === 0 && (
            <p className="muted">
              No feature clamped: add one (search by id, label or concept) or open Steering from a feature's page.
            </p>
          )}
          {clamps.map((c, i) => (
            <ClampEditor
              key={c.feature}
              clamp={c}
              onChange={next => setClamps(cs => cs.map((x, k) => (k === i ? next : x)))}
              onRemove={() => setClamps(cs => cs.filter((_, k) => k !== i))}
              onOpen={() => onOpenFeature(c.feature)}
            />
          ))}
        </section>
        <section className="wb-panel">
          <div className="wb-panel-head">Generation</div>
          <div className="steer-form">
            <label>
              Mode{' '}
              <select
                value={settings.mode}
                data-testid="steer-mode"
                onChange={e => {
                  const mode = e.target.value as GenerationSettings['mode']
                  setSettings({ ...settings, mode, ...MODE_DEFAULTS[mode] })
                }}
              >
                {GENERATION_MODES.map(m => (
                  <option key={m} value={m}>
                    {m === 'edit' ? 'edit (one pass)' : m === 'resample' ? 'iterative masked resampling' : 'de novo'}
                  </option>
                ))}
              </select>
            </label>
            <NumberField
              label="Sequences"
              value={settings.n}
              min={1}
              max={10000}
              step={1}
              onChange={n => setSettings({ ...settings, n })}
              testId="steer-n"
            />
            <NumberField
              label="Seed"
              value={settings.seed}
              min={0}
              max={2 ** 31}
              step={1}
              onChange={seed => setSettings({ ...settings, seed })}
              testId="steer-seed"
            />
            <NumberField
              label="Temperature (0 = argmax)"
              value={settings.temperature}
              min={0}
              max={100}
              step={0.1}
              onChange={temperature => setSettings({ ...settings, temperature })}
            />
            {settings.mode !== 'edit' && (
              <NumberField
                label={settings.mode === 'denovo' ? 'Unmasking steps' : 'Rounds'}
                value={settings.rounds}
                min={1}
                max={10000}
                step={1}
                onChange={rounds => setSettings({ ...settings, rounds })}
              />
            )}
            {settings.mode === 'resample' && (
              <NumberField
                label="Mask fraction"
                value={settings.maskFraction}
                min={0.01}
                max={1}
                step={0.01}
                onChange={maskFraction => setSettings({ ...settings, maskFraction })}
              />
            )}
            {settings.mode === 'denovo' && (
              <NumberField
                label="Length"
                value={settings.length ?? 100}
                min={1}
                max={1022}
                step={1}
                onChange={length => setSettings({ ...settings, length })}
                testId="steer-length"
              />
            )}
            <label>
              Motif (PROSITE){' '}
              <input
                type="text"
                value={motif}
                placeholder="C-x(2,4)-C-x(3)-[LIVMFYWC]-x(8)-H-x(3,5)-H"
                onChange={e => setMotif(e.target.value)}
                data-testid="steer-motif"
              />
            </label>
            <label title="One forward per residue per sequence: slow for many or long sequences">
              <input type="checkbox" checked={pll} onChange={e => setPll(e.target.checked)} /> pseudo-log-likelihood
              (slow)
            </label>
          </div>
          {settings.mode !== 'denovo' && (
            <div className="steer-start">
              <div className="wb-panel-head">
                Starting sequence{' '}
                {start && (
                  <span className="wb-chip">
                    {start.id} · {start.sequence.length} aa
                  </span>
                )}
                {start && (
                  <button className="btn-small" onClick={() => setStart(null)}>
                    change
                  </button>
                )}
              </div>
              {start?.pasted && (
                <PastedRecordChoice
                  records={start.pasted}
                  shown={start.pasted.findIndex(r => r.name === start.id && r.sequence === start.sequence)}
                  onChoose={r => setStart({ id: r.name, sequence: r.sequence, pasted: start.pasted })}
                />
              )}
              {!start && (
                <ProteinPicker
                  projectId={projectId}
                  onPick={p => {
                    api.proteinDetail({ projectId, protein: p.accession }).then(
                      d => setStart({ id: d.accession, sequence: d.sequence, accession: d.accession }),
                      (e: Error) => setError(e.message)
                    )
                  }}
                  onSequence={(name, sequence, pasted) => setStart({ id: name || 'pasted', sequence, pasted })}
                />
              )}
            </div>
          )}
          <div className="wb-toolbar">
            <button
              data-testid="steer-generate"
              disabled={pending !== null || (settings.mode !== 'denovo' && !start)}
              onClick={() => void generate()}
            >
              Generate
            </button>
            {clamps.length > 0 && (
              <a
                className="btn-small"
                href={`#/experiments?features=${clamps.map(c => c.feature).join(',')}`}
                title="An experiment over doses of these features, with controls and statistics"
                data-testid="steer-experiment"
              >
                Experiment with these features…
              </a>
            )}
            {pending && job && (
              <>
                <progress
                  max={Math.max(1, job.progress.total)}
                  value={job.progress.done}
                  data-testid="steer-progress"
                />
                <span className="muted">
                  {job.progress.phase} {job.progress.done}/{job.progress.total}
                </span>
                <button onClick={() => void api.cancelJob({ jobId: job.id })} data-testid="steer-cancel">
                  Cancel
                </button>
              </>
            )}
          </div>
        </section>
      </div>
      {settings.mode !== 'denovo' && start && (
        <Preview projectId={projectId} sequence={start.sequence} clamps={clamps} />
      )}
      <section className="wb-panel">
        <div className="wb-panel-head">
          Runs of this project
          <select
            value={run?.id ?? ''}
            onChange={e =>
              e.target.value &&
              api.steeringRun({ projectId, runId: e.target.value }).then(setRun, (err: Error) => setError(err.message))
            }
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
              {(['fasta', 'csv', 'json'] as const).map(f => (
                <button
                  key={f}
                  className="btn-small"
                  onClick={() => void exportRun(f).catch((e: Error) => setError(e.message))}
                  data-testid={`steer-export-${f}`}
                >
                  {f.toUpperCase()}
                </button>
              ))}
            </span>
          )}
        </div>
        {run && <ResultsTable run={run} onCompare={setCompare} />}
      </section>
      {run && compared && (
        <section className="wb-panel" data-testid="steer-compare">
          <div className="wb-panel-head">
            {compared.id} and its parent
            <button className="btn-small" onClick={() => setCompare(null)}>
              close
            </button>
          </div>
          {run.parent && (
            <SequenceDiff
              parentId={run.parent.id}
              parent={run.parent.sequence}
              childId={compared.id}
              child={compared.sequence}
            />
          )}
          <div className="steer-compare">
            <div>
              <h3>{run.parent ? `Parent ${run.parent.id}` : 'No parent (de novo)'}</h3>
              {run.parent && (
                <ProteinView
                  projectId={projectId}
                  source={
                    parentStored
                      ? { kind: 'stored', protein: run.parent.id }
                      : { kind: 'live', name: run.parent.id, sequence: run.parent.sequence }
                  }
                  featureId={run.clamps[0]?.feature}
                  onPickSource={() => undefined}
                  onOpenFeature={onOpenFeature}
                />
              )}
            </div>
            <div>
              <h3>{compared.id}</h3>
              <ProteinView
                projectId={projectId}
                source={{ kind: 'live', name: compared.id, sequence: compared.sequence }}
                featureId={run.clamps[0]?.feature}
                onPickSource={() => undefined}
                onOpenFeature={onOpenFeature}
              />
            </div>
          </div>
        </section>
      )}
    </div>
  )
}

function NumberField({
  label,
  value,
  min,
  max,
  step,
  onChange,
  testId
}: {
  label: string
  value: number
  min: number
  max: number
  step: number
  onChange: (v: number) => void
  testId?: string
}) {
  return (
    <label>
      {label}{' '}
      <input
        type="number"
        value={value}
        min={min}
        max={max}
        step={step}
        data-testid={testId}
        onChange={e => {
          const v = Number(e.target.value)
          if (Number.isFinite(v) && v >= min && v <= max) onChange(step === 1 ? Math.round(v) : v)
        }}
      />
    </label>
  )
}

function FeatureSearch({ projectId, onAdd }: { projectId: string; onAdd: (feature: number) => void }) {
  const [text, setText] = useState('')
  const [items, setItems] = useState<FeatureSummary[]>([])
  useEffect(() => {
    const q = text.trim()
    if (!q) {
      setItems([])
      return
    }
    let live = true
    const timer = setTimeout(() => {
      api.listFeatures({ projectId, text: q, status: 'alive', sort: { key: 'max', dir: 'desc' }, limit: 12 }).then(
        r => live && setItems(r.items),
        () => live && setItems([])
      )
    }, 200)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [projectId, text])
  const asId = /^\d+$/.test(text.trim()) ? Number(text.trim()) : undefined
  // Adding a feature clears the search, ready for the next one.
  const add = (feature: number): void => {
    onAdd(feature)
    setText('')
  }
  return (
    <div className="steer-search">
      <input
        type="search"
        placeholder="Add a feature: id, label or concept"
        value={text}
        onChange={e => setText(e.target.value)}
        data-testid="steer-feature-search"
      />
      {asId !== undefined && !items.some(f => f.id === asId) && (
        <button className="btn-small" onClick={() => add(asId)}>
          add feature {asId}
        </button>
      )}
      {items.length > 0 && (
        <ul className="steer-search-results">
          {items.map(f => (
            <li key={f.id}>
              <button className="link" onClick={() => add(f.id)} data-testid="steer-feature-result">
                f{f.id} {f.label || (f.bestConcept ? conceptName(f.bestConcept.type) : '')}{' '}
                <span className="muted">max {formatNumber(f.max)}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

function ClampEditor({
  clamp,
  onChange,
  onRemove,
  onOpen
}: {
  clamp: ClampRow
  onChange: (c: ClampRow) => void
  onRemove: () => void
  onOpen: () => void
}) {
  const b = sliderBounds(clamp)
  return (
    <div className="steer-clamp" data-testid="steer-clamp" data-feature={clamp.feature}>
      <div className="steer-clamp-head">
        <button className="link" onClick={onOpen}>
          f{clamp.feature}
        </button>{' '}
        <span className="muted">{clamp.label}</span>{' '}
        <span className="muted">{clamp.max > 0 ? `max ${formatNumber(clamp.max)}` : 'max unknown'}</span>
        <span className="spacer" />
        <select
          value={clamp.mode}
          onChange={e =>
            onChange({
              ...clamp,
              mode: e.target.value as ClampMode,
              value: e.target.value === 'multiple-of-max' ? 1 : e.target.value === 'add-to-natural' ? 0 : clamp.max || 5
            })
          }
        >
          {CLAMP_MODES.map(m => (
            <option key={m} value={m} disabled={m === 'multiple-of-max' && !(clamp.max > 0)}>
              {m === 'absolute' ? 'set to' : m === 'multiple-of-max' ? '× max' : 'add'}
            </option>
          ))}
        </select>
        <button className="btn-small" onClick={onRemove} aria-label={`remove feature ${clamp.feature}`}>
          ✕
        </button>
      </div>
      <div className="steer-clamp-body">
        <input
          type="range"
          min={b.min}
          max={b.max}
          step={b.step}
          value={clamp.value}
          onChange={e => onChange({ ...clamp, value: Number(e.target.value) })}
          aria-label={`value of feature ${clamp.feature}`}
          data-testid="steer-slider"
        />
        <input
          type="number"
          className="steer-value"
          value={Number(clamp.value.toFixed(4))}
          step={b.step}
          onChange={e =>
            Number.isFinite(Number(e.target.value)) && onChange({ ...clamp, value: Number(e.target.value) })
          }
        />
        <label className="muted">
          <input
            type="checkbox"
            checked={clamp.range !== null}
            onChange={e => onChange({ ...clamp, range: e.target.checked ? { start: 1, end: 10 } : null })}
          />{' '}
          residues
        </label>
        {clamp.range && (
          <>
            <input
              type="number"
              className="steer-pos"
              min={1}
              value={clamp.range.start}
              onChange={e =>
                onChange({
                  ...clamp,
                  range: { ...clamp.range!, start: Math.max(1, Math.round(Number(e.target.value) || 1)) }
                })
              }
            />
            –
            <input
              type="number"
              className="steer-pos"
              min={1}
              value={clamp.range.end}
              onChange={e =>
                onChange({
                  ...clamp,
                  range: { ...clamp.range!, end: Math.max(1, Math.round(Number(e.target.value) || 1)) }
                })
              }
            />
          </>
        )}
      </div>
    </div>
  )
}

function Preview({ projectId, sequence, clamps }: { projectId: string; sequence: string; clamps: ClampRow[] }) {
  const ref = useRef<HTMLDivElement>(null)
  const width = useElementWidth(ref, 900)
  const [preview, setPreview] = useState<SteeringPreview | null>(null)
  const [error, setError] = useState<string | null>(null)
  const key = JSON.stringify(toSpecs(clamps))
  const requestPreview = useEffectEvent(() => api.steeringPreview({ projectId, sequence, clamps: toSpecs(clamps) }))
  useEffect(() => {
    let live = true
    const timer = setTimeout(() => {
      requestPreview().then(
        p => {
          if (!live) return
          setPreview(p)
          setError(null)
        },
        (e: Error) => live && setError(e.message)
      )
    }, PREVIEW_DELAY_MS)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [projectId, sequence, key])
  const shift = useMemo(() => (preview ? shiftMatrix(preview) : null), [preview])
  return (
    <section className="wb-panel" ref={ref}>
      <div className="wb-panel-head">Live preview</div>
      {error && <p className="error-inline">{error}</p>}
      {shift && preview && <ShiftHeatmap shift={shift} sequence={preview.sequence} width={width - 16} />}
      {!shift && !error && <p className="muted">computing…</p>}
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
