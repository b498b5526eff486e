/**
 * The SAE fit check in the Models view (checkSaeFit jobs, engine/sae/sae-fit.ts): the fit kept with an SAE's
 * library entry (FVU, cosine, % of the masked-LM loss recovered, warnings) with a button to check it, and, in
 * the new-project form, the comparison of every layer before indexing, with a warning and the numbers when another
 * layer fits better (the user may still index).
 */
import type { ReactNode } from 'react'
import type { JobInfo } from '@shared/api'
import type { LibraryEntry, SaeFitCheck, SaeLayerFit } from '@shared/library-types'
import { api } from '@renderer/api'
import { formatDuration, ProgressBar } from './progress-bar'

const pct = (v: number): string => `${v.toFixed(1)}%`
const proteinsOf = (fit: SaeFitCheck): string =>
  `${fit.proteins} ${fit.proteins === 1 ? 'protein' : 'proteins'} of ${fit.sample}`

/** "FVU 0.123, cosine 0.95, 87.1% of the masked-LM loss recovered" */
export function layerFitText(f: SaeLayerFit): string {
  return `FVU ${f.fvu.toFixed(3)}, cosine ${f.cosine.toFixed(3)}, L0 ${f.l0.toFixed(1)}, ${pct(f.recoveredVsZero)} of the masked-LM loss recovered`
}

function runningFit(jobs: JobInfo[], saeId: string): JobInfo | undefined {
  return jobs.find(j => j.kind === 'sae-fit' && j.entryId === saeId && (j.state === 'running' || j.state === 'queued'))
}

function FitProgress({ job }: { job: JobInfo }): ReactNode {
  const p = job.progress
  const eta = p.etaSeconds !== undefined ? `, ${formatDuration(p.etaSeconds)} left` : ''
  return (
    <ProgressBar
      done={p.done}
      total={p.total}
      label={`${p.phase}: ${p.done} / ${p.total}${eta}`}
      testId="fit-progress"
    />
  )
}

function FitWarnings({ fit }: { fit: SaeFitCheck }): ReactNode {
  if (fit.warnings.length === 0) return null
  return (
    <ul className="error-text small" data-testid="fit-warnings">
      {fit.warnings.map(w => (
        <li key={w}>{w}</li>
      ))}
    </ul>
  )
}

/** The library row's fit cell of an SAE: the kept fit at its layer, and "Check fit" (on its own model). */
export function SaeFitCell({
  entry,
  jobs,
  run
}: {
  entry: LibraryEntry
  jobs: JobInfo[]
  run(f: () => Promise<unknown>): void
}): ReactNode {
  if (entry.kind !== 'sae') return null
  const job = runningFit(jobs, entry.id)
  const fit = entry.fit
  const at = fit ? (fit.layers.find(l => l.layer === fit.declaredLayer) ?? fit.layers[0]) : undefined
  return (
    <div data-testid="sae-fit">
      {fit && at && (
        <div className="small" data-testid="sae-fit-summary">
          Layer {at.layer} on {fit.modelName}: {layerFitText(at)} ({proteinsOf(fit)})
          <FitWarnings fit={fit} />
        </div>
      )}
      {job ? (
        <FitProgress job={job} />
      ) : (
        entry.status === 'ready' &&
        entry.baseModelId && (
          <button
            className="link"
            data-testid="check-fit"
            title="How well the SAE reconstructs its layer on the demo set, and how much of the model's masked-LM loss survives the reconstruction (plm-sae check-sae)"
            onClick={() => run(() => api.checkSaeFit({ saeId: entry.id }))}
          >
            {fit ? 'Check the fit again' : 'Check the fit'}
          </button>
        )
      )}
    </div>
  )
}

/**
 * Before indexing (the new-project form): compares every layer of the chosen model for the chosen SAE (a job,
 * with progress) and shows each layer's numbers, with a warning when another layer fits clearly better than the
 * SAE's or when every layer fits poorly. Indexing stays possible either way.
 */
export function LayerComparison({
  sae,
  modelId,
  jobs,
  run
}: {
  sae: LibraryEntry | undefined
  modelId: string
  jobs: JobInfo[]
  run(f: () => Promise<unknown>): void
}): ReactNode {
  if (!sae || !modelId) return null
  const job = runningFit(jobs, sae.id)
  const fit = sae.fit && sae.fit.modelId === modelId && sae.fit.layers.length > 1 ? sae.fit : undefined
  return (
    <div className="subpanel" data-testid="layer-comparison">
      {job ? (
        <FitProgress job={job} />
      ) : fit ? (
        <>
          <div className="small" data-testid="layer-comparison-result">
            {fit.warnings.length === 0
              ? `Layer ${fit.declaredLayer ?? fit.bestLayer} fits as well as any layer of ${fit.modelName}.`
              : `Checked every layer of ${fit.modelName} on ${proteinsOf(fit)}:`}
          </div>
          <FitWarnings fit={fit} />
          <table className="table small" data-testid="layer-fit-table">
            <thead>
              <tr>
                <th>Layer</th>
                <th>FVU</th>
                <th>cosine</th>
                <th>L0</th>
                <th>loss recovered</th>
              </tr>
            </thead>
            <tbody>
              {fit.layers.map(l => (
                <tr key={l.layer} data-testid="layer-fit-row" data-layer={l.layer}>
                  <td>
                    {l.layer}
                    {l.layer === fit.declaredLayer ? ' (the SAE’s)' : ''}
                    {l.layer === fit.bestLayer ? ' (best)' : ''}
                  </td>
                  <td>{l.fvu.toFixed(3)}</td>
                  <td>{l.cosine.toFixed(3)}</td>
                  <td>{l.l0.toFixed(1)}</td>
                  <td>{pct(l.recoveredVsZero)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {fit.warnings.length > 0 && (
            <div className="small">You can still create and index the project with layer {fit.declaredLayer}.</div>
          )}
        </>
      ) : (
        <button
          data-testid="compare-layers"
          title="Runs the SAE on every layer of the model (plm-sae check-sae --layers all) to see whether another layer fits better"
          onClick={() => run(() => api.checkSaeFit({ saeId: sae.id, modelId, layers: 'all' }))}
        >
          Compare layers before indexing
        </button>
      )}
    </div>
  )
}
