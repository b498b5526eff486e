/**
 * Steering experiments: the builder, the running job (progress with rate and ETA from the job system, cancel),
 * the project's experiments (an interrupted one resumes when its design is started again), and the results of
 * the selected one.
 */
import { useEffect, useEffectEvent, useState } from 'react'
import { api, useJobs } from '@renderer/api'
import type { ExperimentDesign, ExperimentInfo } from '@shared/experiment-types'
import { ErrorAlert } from '@renderer/components/error-alert'
import { ExperimentBuilder } from './ExperimentBuilder'
import { ExperimentResults } from './ExperimentResults'

export function ExperimentsView({
  projectId,
  initialFeatures,
  experiment,
  onOpenExperiment,
  onOpenFeature
}: {
  projectId: string
  initialFeatures?: number[]
  experiment?: string
  /** Opens an experiment's results (keep it stable: a new function re-runs the job-ended effect). */
  onOpenExperiment: (id: string) => void
  onOpenFeature: (f: number) => void
}) {
  const [list, setList] = useState<ExperimentInfo[]>([])
  const [jobId, setJobId] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)
  const jobs = useJobs()
  const job = jobId
    ? jobs.find(j => j.id === jobId)
    : jobs.find(j => j.kind === 'experiment' && j.projectId === projectId && j.state === 'running')
  const jobState = job?.state
  // The list is read again every 32 conditions of a running job.
  const progressStep = job && Math.floor(job.progress.done / 32)
  useEffect(() => {
    api.listExperiments({ projectId }).then(setList, (e: Error) => setError(e.message))
  }, [projectId, jobState, progressStep])
  // Runs when the job's state changes (only then), with the props and job of that render.
  const onJobStateChange = useEffectEvent(() => {
    if (job?.state === 'failed') setError(job.error ?? 'The experiment failed.')
    if (job?.state === 'done' && jobId === job.id) {
      // the experiment this job ran (or resumed) is the most recently updated one
      api.listExperiments({ projectId }).then(
        l => {
          setList(l)
          if (l[0]?.status === 'complete') onOpenExperiment(l[0].id)
        },
        (e: Error) => setError(e.message)
      )
    }
  })
  useEffect(() => onJobStateChange(), [jobState])

  const start = async (design: ExperimentDesign): Promise<void> => {
    setError(null)
    try {
      const r = await api.startExperiment({ projectId, design })
      setJobId(r.job.id)
    } catch (e) {
      setError((e as Error).message)
    }
  }

  const running = job && (job.state === 'running' || job.state === 'queued')
  return (
    <div className="wb-view exp-view" data-testid="experiments-view">
      <section className="wb-panel">
        <div className="wb-panel-head">New experiment</div>
        <ExperimentBuilder initialFeatures={initialFeatures} onStart={d => void start(d)} busy={Boolean(running)} />
        {job && (
          <div className="exp-job" data-testid="exp-job">
            {job.title}: {job.state} · {job.progress.phase} {job.progress.done}/{job.progress.total} {job.progress.unit}
            {job.progress.rate ? ` · ${job.progress.rate.toFixed(2)}/s` : ''}
            {job.progress.etaSeconds !== undefined ? ` · about ${Math.ceil(job.progress.etaSeconds)} s left` : ''}
            {job.progress.detail && <div className="muted">{job.progress.detail}</div>}
            {running && (
              <button
                className="btn-small"
                onClick={() => void api.cancelJob({ jobId: job.id })}
                data-testid="exp-cancel"
              >
                cancel
              </button>
            )}
          </div>
        )}
        <ErrorAlert error={error} />
      </section>
      <section className="wb-panel">
        <div className="wb-panel-head">Experiments of this project</div>
        {list.length === 0 && <div className="muted">None yet.</div>}
        <ul className="exp-list">
          {list.map(e => (
            <li key={e.id}>
              <button className="link" onClick={() => onOpenExperiment(e.id)} disabled={e.status !== 'complete'}>
                {e.name}
              </button>{' '}
              <span className="muted">
                {e.id} · {e.conditions} conditions · {e.done}/{e.sequences} sequences ·{' '}
                {e.status === 'complete' ? 'complete' : 'interrupted or running (start the same design to resume)'} ·{' '}
                {e.createdAt.slice(0, 16).replace('T', ' ')}
              </span>
            </li>
          ))}
        </ul>
      </section>
      {experiment && (
        <section className="wb-panel">
          <ExperimentResults projectId={projectId} experimentId={experiment} onOpenFeature={onOpenFeature} />
        </section>
      )}
    </div>
  )
}
