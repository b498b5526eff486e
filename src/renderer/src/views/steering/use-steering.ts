/**
 * The steering panel's state and its talks with the service: looks up a feature's scale when it is clamped,
 * loads the project's runs, starts a steering job, opens its run when the job ends, and tells whether the
 * parent of the open run is a protein of the project.
 */
import { useCallback, useEffect, useReducer, useState } from 'react'
import { api, useJobs } from '@renderer/api'
import type { JobInfo } from '@shared/api'
import { downloadText } from '@renderer/components/export-file'
import {
  INITIAL_STEERING_STATE,
  newClamp,
  steeringReducer,
  steeringRequest,
  type SteeringAction,
  type SteeringState
} from './steering-state'

export interface SteeringPanel {
  state: SteeringState
  dispatch: (action: SteeringAction) => void
  /** The job of `state.pending`, once the job list has it. */
  job: JobInfo | undefined
  /** Clamps a feature, its slider on the feature's project max (a default scale when it is not indexed). */
  addFeature: (feature: number) => Promise<void>
  openRun: (runId: string) => void
  generate: () => Promise<void>
  exportRun: (format: 'fasta' | 'csv' | 'json') => Promise<void>
  /** The open run's parent is a protein of the project (shown with its annotations and structures). */
  parentStored: boolean
}

export function useSteeringState(projectId: string, initialFeature: number | undefined): SteeringPanel {
  const [state, dispatch] = useReducer(steeringReducer, INITIAL_STEERING_STATE)
  const { pending, run } = state
  const jobs = useJobs()
  const job = pending ? jobs.find(j => j.id === pending.jobId) : undefined
  const fail = useCallback((e: Error) => dispatch({ type: 'set-error', error: e.message }), [])

  const addFeature = useCallback(
    async (feature: number): Promise<void> => {
      let label = ''
      let max = 0
      try {
        const page = await api.listFeatures({ projectId, ids: [feature], limit: 1 })
        if (page.items[0]) ({ label, max } = page.items[0])
      } catch {
        // not indexed: slider on a default scale
      }
      dispatch({ type: 'add-clamp', clamp: newClamp(feature, label, max) })
    },
    [projectId]
  )

  useEffect(() => {
    if (initialFeature !== undefined) void addFeature(initialFeature)
  }, [initialFeature, addFeature])

  const reloadRuns = useCallback((): void => {
    api.listSteeringRuns({ projectId }).then(runs => dispatch({ type: 'runs-loaded', runs }), fail)
  }, [projectId, fail])
  useEffect(reloadRuns, [reloadRuns])

  const openRun = useCallback(
    (runId: string): void => {
      api.steeringRun({ projectId, runId }).then(r => dispatch({ type: 'run-opened', run: r }), fail)
    },
    [projectId, fail]
  )

  // the job ended: open its run (or show why it failed)
  const jobState = job?.state
  const jobError = job?.error
  useEffect(() => {
    if (!pending || !jobState || jobState === 'running' || jobState === 'queued') return
    if (jobState === 'done') {
      openRun(pending.runId)
      reloadRuns()
    } else if (jobState === 'failed') dispatch({ type: 'set-error', error: jobError ?? 'The steering job failed.' })
    dispatch({ type: 'job-ended' })
  }, [pending, jobState, jobError, openRun, reloadRuns])

  const generate = async (): Promise<void> => {
    dispatch({ type: 'set-error', error: null })
    try {
      const r = await api.startSteering(steeringRequest(projectId, state))
      dispatch({ type: 'job-started', jobId: r.job.id, runId: r.runId })
    } catch (e) {
      fail(e as Error)
    }
  }

  const exportRun = async (format: 'fasta' | 'csv' | 'json'): Promise<void> => {
    if (!run) return
    const r = await api.exportSteeringRun({ projectId, runId: run.id, format })
    downloadText(r.fileName, r.text, r.mimeType)
  }

  const [parentStored, setParentStored] = useState(false)
  useEffect(() => {
    let wanted = true
    setParentStored(false)
    if (run?.parent) {
      const parent = run.parent
      api.proteinDetail({ projectId, protein: parent.id }).then(
        d => wanted && setParentStored(d.sequence === parent.sequence),
        () => undefined
      )
    }
    return () => {
      wanted = false
    }
  }, [projectId, run])

  return { state, dispatch, job, addFeature, openRun, generate, exportRun, parentStored }
}
