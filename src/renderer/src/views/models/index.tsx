/**
 * View 1, "Models & projects": the execution provider, the model library (downloads with progress, add,
 * remove, disk use), the projects (create from FASTA / UniProt text, open, disk use) and the jobs (progress,
 * cancel).
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react'
import { OptionsOf, TableHead } from '@renderer/components/table-parts'
import type { AppInfo, JobInfo, ProjectInfo } from '@shared/api'
import type { BadRecordPolicy, ConceptSplit, FalsePositiveScope } from '@shared/store-types'
import {
  DEVICE_SETTINGS,
  formatBytes,
  type DeviceSetting,
  type LibraryEntry,
  type LibraryEntryKind
} from '@shared/library-types'
import { sniffProteinFormat } from '@shared/sequence-text'
import { providerLabel } from './provider-badge'
import { api } from '@renderer/api'
import { conceptName } from '@renderer/components/concept-chip'
import { ConceptSplitFields, conceptSplitRequest, NO_CONCEPT_SPLIT } from '@renderer/components/concept-split-fields'
import { useWorkbench } from '@renderer/navigation'
import { formatCount, formatDuration, ProgressBar } from './progress-bar'
import { LayerComparison, SaeFitCell } from './sae-fit'
import { FolderUpload } from './folder-upload'
import { SaePicker } from './sae-picker'

export interface ModelsViewProps {
  appInfo: AppInfo | undefined
  projects: ProjectInfo[]
  currentProjectId: string | undefined
  jobs: JobInfo[]
  onChanged(): void
}

function useAction(onDone: () => void): [(f: () => Promise<unknown>) => void, string | undefined, () => void] {
  const [error, setError] = useState<string>()
  const run = useCallback(
    (f: () => Promise<unknown>) => {
      setError(undefined)
      f().then(onDone, (e: Error) => setError(e.message))
    },
    [onDone]
  )
  return [run, error, () => setError(undefined)]
}

export function ModelsView({ appInfo, projects, currentProjectId, jobs, onChanged }: ModelsViewProps): ReactNode {
  const [models, setModels] = useState<LibraryEntry[]>([])
  const [tick, setTick] = useState(0)
  const reload = useCallback(() => {
    setTick(t => t + 1)
    onChanged()
  }, [onChanged])
  const [run, error, clearError] = useAction(reload)
  const { navigate } = useWorkbench()

  const finishedJobs = jobs.filter(j => j.state === 'done' || j.state === 'failed' || j.state === 'cancelled').length
  useEffect(() => {
    let alive = true
    api.listModels({}).then(
      m => alive && setModels(m),
      () => undefined
    )
    return () => {
      alive = false
    }
  }, [tick, finishedJobs])

  return (
    <div className="models-view">
      {error && (
        <div className="panel error" role="alert">
          {error}{' '}
          <button className="link" onClick={clearError}>
            dismiss
          </button>
        </div>
      )}
      <ProviderPanel appInfo={appInfo} onDevice={device => run(() => api.setDevice({ device }))} />
      <JobsPanel jobs={jobs} onCancel={id => run(() => api.cancelJob({ jobId: id }))} />
      <ProjectsPanel
        projects={projects}
        currentProjectId={currentProjectId}
        models={models}
        onOpen={id =>
          run(async () => {
            await api.openProject({ projectId: id })
            navigate({ view: 'features' })
          })
        }
        onIndex={(id, conceptSplit) =>
          run(() => api.startIndexJob({ projectId: id, ...(conceptSplit ? { conceptSplit } : {}) }))
        }
        onOpenStore={
          appInfo?.canPickLocalFolders
            ? () =>
                run(async () => {
                  await api.openStore({})
                  navigate({ view: 'features' })
                })
            : undefined
        }
        run={run}
        jobs={jobs}
        remembered={{ modelId: appInfo?.lastModelId, saeId: appInfo?.lastSaeId }}
      />
      <LibraryPanel models={models} jobs={jobs} appInfo={appInfo} run={run} projects={projects} />
    </div>
  )
}

const DEVICE_LABELS: Record<DeviceSetting, string> = {
  auto: 'auto (CUDA, else a WebGPU GPU, else the CPU)',
  cuda: 'CUDA (NVIDIA, needs CUDA 12 + cuDNN 9)',
  webgpu: 'WebGPU (any GPU, the driver alone)',
  cpu: 'CPU'
}

function ProviderPanel({
  appInfo,
  onDevice
}: {
  appInfo: AppInfo | undefined
  onDevice(device: DeviceSetting): void
}): ReactNode {
  if (!appInfo) return <section className="panel">Reading the execution provider…</section>
  const p = appInfo.provider
  const saved = appInfo.savedDevice ?? 'auto'
  return (
    <section className="panel" aria-labelledby="provider-h" data-testid="provider-panel">
      <h2 id="provider-h">Execution provider</h2>
      <p data-testid="provider-summary">
        <strong>{providerLabel(p)}</strong> — {p.summary}
      </p>
      {p.reason && (
        <p className="muted" data-testid="provider-reason">
          why: {p.reason}
        </p>
      )}
      <p>
        <label>
          Run on{' '}
          <select value={saved} onChange={e => onDevice(e.target.value as DeviceSetting)} data-testid="device-setting">
            <OptionsOf values={DEVICE_SETTINGS} label={d => DEVICE_LABELS[d]} />
          </select>
        </label>
        {p.choice !== undefined && saved !== p.choice && (
          <span className="muted" data-testid="device-restart">
            {' '}
            saved: applies at the next start (now: {p.choice})
          </span>
        )}
      </p>
      {p.fallbackReason && (
        <p className="muted" data-testid="provider-fallback">
          {p.fallbackReason}
        </p>
      )}
      <p className="muted">
        Data folder: <code>{appInfo.dataDir}</code> · models {formatBytes(appInfo.diskBytes.models)} · projects{' '}
        {formatBytes(appInfo.diskBytes.projects)} · version {appInfo.version}
      </p>
    </section>
  )
}

function JobsPanel({ jobs, onCancel }: { jobs: JobInfo[]; onCancel(id: string): void }): ReactNode {
  return (
    <section className="panel" aria-labelledby="jobs-h" data-testid="jobs-panel">
      <h2 id="jobs-h">Jobs</h2>
      {jobs.length === 0 && <p className="muted">No jobs yet.</p>}
      <ul className="job-list">
        {jobs.map(j => (
          <li
            key={j.id}
            className={`job job-${j.state}`}
            data-testid="job"
            data-job-state={j.state}
            data-job-kind={j.kind}
          >
            <div className="job-line">
              <span className="job-title">{j.title}</span>
              <span className={`job-state state-${j.state}`} data-testid="job-state">
                {j.state}
              </span>
              {(j.state === 'running' || j.state === 'queued') && (
                <button onClick={() => onCancel(j.id)} data-testid="job-cancel">
                  Cancel
                </button>
              )}
            </div>
            <ProgressBar
              done={j.state === 'done' ? 1 : j.progress.done}
              total={j.state === 'done' ? 1 : j.progress.total}
              label={jobLabel(j)}
              testId="job-progress"
            />
            {j.error && <p className="error-text">{j.error}</p>}
            {j.warnings?.map((w, i) => (
              <p key={i} className="error-text" role="alert" data-testid="job-warning">
                Warning: {w}
              </p>
            ))}
            {j.badRecords && j.badRecords.length > 0 && <BadRecords job={j} />}
          </li>
        ))}
      </ul>
    </section>
  )
}

/** The bad records of an index job: file, line, record id and why (skipped, or the one that stopped it). */
function BadRecords({ job }: { job: JobInfo }): ReactNode {
  const list = job.badRecords ?? []
  const count = job.badRecordCount ?? list.length
  const stopped = job.state === 'failed'
  return (
    <details className="bad-records" data-testid="job-bad-records" data-count={count} open={stopped || count <= 5}>
      <summary>
        {stopped ? 'Stopped at a bad record' : `${count.toLocaleString()} bad record${count === 1 ? '' : 's'} skipped`}
        {count > list.length ? ` (first ${list.length.toLocaleString()} listed)` : ''}
      </summary>
      <table className="table small">
        <TableHead columns={['File', 'Line', 'Id', 'Why']} />
        <tbody>
          {list.map((r, i) => (
            <tr key={`${r.line}-${i}`} data-testid="bad-record">
              <td className="mono">{r.file}</td>
              <td>{r.line}</td>
              <td className="mono">{r.id || '—'}</td>
              <td>{r.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  )
}

function jobLabel(j: JobInfo): string {
  const p = j.progress
  const unit =
    p.unit === 'bytes'
      ? `${formatBytes(p.done)} / ${formatBytes(p.total)}`
      : p.unit === 'permille'
        ? `${Math.round(p.done / 10)}%`
        : `${formatCount(p.done)} / ${formatCount(p.total)} ${p.unit}`
  const rate = p.rate
    ? p.unit === 'bytes'
      ? ` · ${formatBytes(p.rate)}/s`
      : ` · ${formatCount(Math.round(p.rate))} ${p.unit}/s`
    : ''
  const eta = j.state === 'running' && p.etaSeconds ? ` · ${formatDuration(p.etaSeconds)} left` : ''
  return `${p.phase}: ${unit}${rate}${eta}${p.detail ? ` · ${p.detail}` : ''}`
}

function ProjectsPanel(props: {
  projects: ProjectInfo[]
  currentProjectId: string | undefined
  models: LibraryEntry[]
  onOpen(id: string): void
  /** Index (again); with a concept split, the project's split changes to it first. */
  onIndex(id: string, conceptSplit?: ConceptSplit): void
  /** Desktop only (a file dialog): open a store indexed elsewhere, e.g. a merged cluster index. */
  onOpenStore?: () => void
  run(f: () => Promise<unknown>): void
  jobs: JobInfo[]
  /** The model and SAE used last: the new project's defaults when still ready. */
  remembered: { modelId?: string; saeId?: string }
}): ReactNode {
  const { projects, currentProjectId, models, onOpen, onIndex, onOpenStore, run, jobs, remembered } = props
  const indexing = new Set(
    jobs.filter(j => j.kind === 'index' && (j.state === 'running' || j.state === 'queued')).map(j => j.projectId)
  )
  return (
    <section className="panel" aria-labelledby="projects-h" data-testid="projects-panel">
      <h2 id="projects-h">Projects</h2>
      <table className="table">
        <TableHead
          columns={[
            'Name',
            'Proteins',
            'Model + SAE (layer)',
            'Features',
            {
              label: 'SAE fit',
              title: "The SAE's fit at the project's layer on the first proteins, checked when indexing"
            },
            'Status',
            'Disk',
            'Fit',
            ''
          ]}
        />
        <tbody>
          {projects.map(p => (
            <tr key={p.id} data-testid="project-row" className={p.id === currentProjectId ? 'current' : undefined}>
              <td>
                {p.name}
                {p.demo && <span className="badge">demo</span>}
                {p.id === currentProjectId && <span className="badge">open</span>}
                {p.fromStore && (
                  <span className="badge" title={`opened from the store ${p.fromStore.fileName}, indexed elsewhere`}>
                    store
                  </span>
                )}
              </td>
              <td>{formatCount(p.proteinCount)}</td>
              <td>
                {p.fromStore ? p.fromStore.modelName : modelName(models, p.modelId)} +{' '}
                {p.fromStore ? p.fromStore.saeName : modelName(models, p.saeId)} ({p.layer})
              </td>
              <td>{p.featureCount !== undefined ? formatCount(p.featureCount) : '—'}</td>
              <td data-testid="project-fit" className="small">
                {p.saeFit ? (
                  <span
                    title={`on ${p.saeFit.proteins} proteins: fraction of variance unexplained, cosine ${p.saeFit.cosine.toFixed(3)}, L0 ${p.saeFit.l0.toFixed(1)}, masked-LM loss recovered vs zero-ablation`}
                  >
                    FVU {p.saeFit.fvu.toFixed(3)} · {p.saeFit.recoveredVsZero.toFixed(0)}% loss recovered
                  </span>
                ) : (
                  '—'
                )}
                {p.saeFit?.warnings.map(w => (
                  <div key={w} className="error-text small">
                    {w}
                  </div>
                ))}
              </td>
              <td data-testid="project-status">
                {indexing.has(p.id) ? 'indexing…' : p.indexed ? 'indexed' : 'not indexed'}
              </td>
              <td>{formatBytes(p.diskBytes)}</td>
              <td className="actions">
                <button onClick={() => onOpen(p.id)} data-testid="project-open">
                  Open
                </button>
                {!p.fromStore && <button onClick={() => onIndex(p.id)}>{p.indexed ? 'Re-index' : 'Index'}</button>}
                {!p.fromStore && <ProjectConceptSettings project={p} onIndex={split => onIndex(p.id, split)} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {onOpenStore && (
        <p>
          <button
            onClick={onOpenStore}
            data-testid="open-store"
            title="A store indexed elsewhere, e.g. merged from a cluster index (plm-sae merge); it is copied into a new project"
          >
            Open a store…
          </button>
        </p>
      )}
      <NewProjectForm models={models} run={run} remembered={remembered} jobs={jobs} />
    </section>
  )
}

function modelName(models: LibraryEntry[], id: string): string {
  return models.find(m => m.id === id)?.name ?? id
}

function NewProjectForm({
  models,
  run,
  remembered,
  jobs
}: {
  models: LibraryEntry[]
  run(f: () => Promise<unknown>): void
  remembered: { modelId?: string; saeId?: string }
  jobs: JobInfo[]
}): ReactNode {
  const esm = models.filter(m => m.kind === 'esm2' && m.status === 'ready')
  const saes = models.filter(m => m.kind === 'sae' && m.status === 'ready')
  const [name, setName] = useState('')
  const [modelId, setModelId] = useState('')
  const [saeId, setSaeId] = useState('')
  const [file, setFile] = useState<File>()
  const [onBadRecord, setOnBadRecord] = useState<BadRecordPolicy>('skip')
  const [falsePositives, setFalsePositives] = useState<FalsePositiveScope>('annotated')
  const [conceptSplit, setConceptSplit] = useState<ConceptSplit>(NO_CONCEPT_SPLIT)
  // Bumped after a project is created: the form starts empty again (the file input included).
  const [formKey, setFormKey] = useState(0)
  const lastModel = esm.find(m => m.id === remembered.modelId)?.id
  const model = modelId || lastModel || esm[0]?.id || ''
  const lastSae = model === lastModel ? saes.find(s => s.id === remembered.saeId)?.id : undefined
  const sae = saeId || lastSae || saes.find(s => !s.baseModelId || s.baseModelId === model)?.id || ''
  const submit = (): void =>
    run(async () => {
      if (!file) throw new Error('Choose a FASTA or UniProt (.dat) file with the proteins of the new project.')
      const text = await file.text()
      const kind = sniffProteinFormat(text.slice(0, 2000)) ?? 'fasta'
      await api.createProject({
        name: name || file.name.replace(/\.[^.]*$/, ''),
        source: { kind, text, fileName: file.name },
        modelId: model,
        saeId: sae,
        onBadRecord,
        falsePositives,
        ...(conceptSplitRequest(conceptSplit) ? { conceptSplit } : {})
      })
      setName('')
      setFile(undefined)
      setFormKey(k => k + 1)
    })
  return (
    <details className="subpanel">
      <summary>New project…</summary>
      <div className="form-row">
        <label>
          Name{' '}
          <input
            value={name}
            onChange={e => setName(e.target.value)}
            maxLength={120}
            placeholder="my proteins"
            data-testid="new-project-name"
          />
        </label>
        <label>
          Proteins (FASTA or UniProt .dat){' '}
          <input
            key={formKey}
            type="file"
            accept=".fasta,.fa,.faa,.dat,.txt"
            onChange={e => setFile(e.target.files?.[0])}
            data-testid="new-project-file"
          />
        </label>
        <label>
          Model
          <select value={model} onChange={e => setModelId(e.target.value)}>
            <OptionsOf values={esm} id={m => m.id} label={m => m.name} />
          </select>
        </label>
        <label>
          SAE
          <select value={sae} onChange={e => setSaeId(e.target.value)}>
            <OptionsOf values={saes} id={m => m.id} label={m => `${m.name} (layer ${m.layer ?? '?'})`} />
          </select>
        </label>
        <label title="A bad record is a sequence with letters that are not amino acids, an entry that does not parse, or an id already stored with another sequence. Every one is listed with its file, line and id.">
          Bad records
          <select
            value={onBadRecord}
            onChange={e => setOnBadRecord(e.target.value as BadRecordPolicy)}
            data-testid="new-project-bad-records"
          >
            <option value="skip">skip them (listed after the job)</option>
            <option value="stop">stop at the first</option>
          </select>
        </label>
        <label title="Concept association: a residue above a feature's threshold that does not carry the annotation is a false positive. Count them on proteins that have annotations only, or on every indexed protein as InterPLM does. Recorded with the run.">
          Concept false positives
          <select
            value={falsePositives}
            onChange={e => setFalsePositives(e.target.value as FalsePositiveScope)}
            data-testid="new-project-false-positives"
          >
            <option value="annotated">on annotated proteins</option>
            <option value="all">on all proteins (InterPLM)</option>
          </select>
        </label>
        <ConceptSplitFields value={conceptSplit} onChange={setConceptSplit} testId="new-project-concept-split" />
        <button onClick={submit} disabled={!model || !sae}>
          Create and index
        </button>
      </div>
      <LayerComparison sae={saes.find(s => s.id === sae)} modelId={model} jobs={jobs} run={run} />
    </details>
  )
}

/** A project's concept split (types scored per note, minimum instances), changed and applied by re-indexing. */
function ProjectConceptSettings({
  project,
  onIndex
}: {
  project: ProjectInfo
  onIndex(split: ConceptSplit): void
}): ReactNode {
  const [split, setSplit] = useState<ConceptSplit>(project.conceptSplit ?? NO_CONCEPT_SPLIT)
  const current = project.conceptSplit ?? NO_CONCEPT_SPLIT
  return (
    <details className="subpanel" data-testid="project-concept-settings">
      <summary
        title="Concept types split by note or ligand, and the minimum instances of a concept"
        data-testid="project-concept-summary"
      >
        Concepts:{' '}
        {current.splitTypes.length ? `split ${current.splitTypes.map(t => conceptName(t)).join(', ')}` : 'not split'}
        {current.minInstances > 1 ? `, ≥ ${current.minInstances} instances` : ''}
      </summary>
      <div className="form-row">
        <ConceptSplitFields value={split} onChange={setSplit} testId="project-concept-split" />
        <button
          onClick={() => onIndex(split)}
          data-testid="project-concept-reindex"
          title="Re-index with these concept settings: stored latents are kept, only the statistics are computed again"
        >
          Re-index with these concepts
        </button>
      </div>
    </details>
  )
}

function LibraryPanel({
  models,
  jobs,
  appInfo,
  run,
  projects
}: {
  models: LibraryEntry[]
  jobs: JobInfo[]
  appInfo: AppInfo | undefined
  run(f: () => Promise<unknown>): void
  projects: ProjectInfo[]
}): ReactNode {
  const usersOf = (id: string): string => {
    const names = projects.filter(p => p.modelId === id || p.saeId === id).map(p => `"${p.name}"`)
    return names.length > 0
      ? `\n\n${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} indexed with it: stored features stay readable, but typing a sequence, steering and indexing more need it again.`
      : ''
  }
  return (
    <section className="panel" aria-labelledby="library-h" data-testid="library-panel">
      <h2 id="library-h">Model library</h2>
      <table className="table">
        <TableHead columns={['Name', 'Kind', 'Layer', 'Source', 'Status', 'Disk', '']} />
        <tbody>
          {models.map(m => {
            const job = jobs.find(
              j => j.kind === 'download' && j.entryId === m.id && (j.state === 'running' || j.state === 'queued')
            )
            return (
              <tr key={m.id} data-testid="model-row" data-model-id={m.id}>
                <td>
                  {m.name}
                  {m.demo && (
                    <span
                      className="badge badge-warn"
                      title="Random weights in the real file format: for trying the app, not a real model"
                    >
                      demo · random weights
                    </span>
                  )}
                  {m.message && (m.status === 'failed-verification' || m.status === 'missing-files') && (
                    <div className="error-text small">{m.message}</div>
                  )}
                </td>
                <td>
                  {m.kind === 'esm2'
                    ? 'ESM2'
                    : `SAE${m.saeFormat ? ` · ${m.saeFormat}` : ''}${m.saeK !== undefined ? `, k ${m.saeK}` : ''}`}
                </td>
                <td>{m.layer ?? (m.numLayers !== undefined ? `${m.numLayers} layers` : '')}</td>
                <td className="small">
                  {m.source.kind === 'hub'
                    ? `${m.source.repo}${m.source.subfolder ? `/${m.source.subfolder}` : ''}${m.source.file ? `/${m.source.file}` : ''}`
                    : m.source.kind}
                </td>
                <td data-testid="model-status" title={m.message}>
                  {job ? (
                    <ProgressBar
                      done={job.progress.done}
                      total={job.progress.total}
                      label={jobLabel(job)}
                      testId="download-progress"
                    />
                  ) : (
                    m.status
                  )}
                </td>
                <td>
                  {m.diskBytes > 0
                    ? formatBytes(m.diskBytes)
                    : m.expectedBytes
                      ? `(${formatBytes(m.expectedBytes)})`
                      : '—'}
                </td>
                <td>
                  <SaeFitCell entry={m} jobs={jobs} run={run} />
                </td>
                <td className="actions">
                  {m.source.kind === 'hub' && m.status !== 'ready' && !job && (
                    <button onClick={() => run(() => api.downloadModel({ id: m.id }))}>Download</button>
                  )}
                  {(m.diskBytes > 0 || !m.builtIn) && !m.demo && (
                    <button
                      onClick={() =>
                        window.confirm(
                          `Remove ${m.name}${m.diskBytes ? ` and free ${formatBytes(m.diskBytes)}` : ''}?${usersOf(m.id)}`
                        ) && run(() => api.removeModel({ id: m.id }))
                      }
                    >
                      Remove
                    </button>
                  )}
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
      <AddModelForm canPickLocal={appInfo?.canPickLocalFolders ?? false} run={run} />
      {appInfo?.mode === 'browser' && <FolderUpload run={run} />}
    </section>
  )
}

function AddModelForm({
  canPickLocal,
  run
}: {
  canPickLocal: boolean
  run(f: () => Promise<unknown>): void
}): ReactNode {
  const [repo, setRepo] = useState('')
  const [kind, setKind] = useState<LibraryEntryKind>('sae')
  const [subfolder, setSubfolder] = useState('')
  const [layer, setLayer] = useState('')
  const layerNumber = /^\d+$/.test(layer) ? Number(layer) : undefined
  return (
    <details className="subpanel">
      <summary>Add a model or SAE…</summary>
      <div className="form-row">
        <label>
          Kind
          <select value={kind} onChange={e => setKind(e.target.value as LibraryEntryKind)}>
            <option value="esm2">ESM2 model</option>
            <option value="sae">SAE</option>
          </select>
        </label>
        <label>
          Hugging Face repository{' '}
          <input value={repo} onChange={e => setRepo(e.target.value)} placeholder="owner/name" maxLength={200} />
        </label>
        <label>
          Subfolder{' '}
          <input
            value={subfolder}
            onChange={e => setSubfolder(e.target.value)}
            placeholder="(optional) layer_4"
            maxLength={200}
          />
        </label>
        {kind === 'sae' && (
          <label>
            Layer <input value={layer} onChange={e => setLayer(e.target.value)} inputMode="numeric" size={3} />
          </label>
        )}
        <button
          disabled={!repo}
          onClick={() =>
            run(() =>
              api.addModel({
                kind,
                source: 'hub',
                repo: repo.trim(),
                subfolder: subfolder || undefined,
                layer: kind === 'sae' ? layerNumber : undefined
              })
            )
          }
        >
          Add
        </button>
        {canPickLocal && (
          <button
            onClick={() =>
              run(() => api.addModel({ kind, source: 'local-dialog', layer: kind === 'sae' ? layerNumber : undefined }))
            }
          >
            Add a local folder…
          </button>
        )}
      </div>
      {kind === 'sae' && <SaePicker repo={repo} run={run} />}
    </details>
  )
}
