/**
 * The steering panel: pick SAE features (search, or from the feature browser), one slider each with its mode
 * and residue range; a starting protein (from the project or pasted) or a de novo length; generation settings;
 * a preview, following the sliders, of how the clamps shift per-position amino-acid probabilities; generate as a
 * job with progress and cancel; the results table with scores; compare any result with its parent in the protein
 * view; the runs of the project (saved, re-openable) and their export as FASTA, CSV or JSON. The state and the
 * service calls are in `useSteeringState` (use-steering.ts, over the reducer of steering-state.ts).
 */
import { api } from '@renderer/api'
import { ErrorAlert } from '@renderer/components/error-alert'
import { BesideParent } from './BesideParent'
import { ClampList } from './ClampList'
import { ClampPreview } from './ClampPreview'
import { FeatureSearch } from './FeatureSearch'
import { GenerationForm, StartSequencePicker } from './GenerationForm'
import { SequenceDiff } from './SequenceDiff'
import { canGenerate } from './steering-state'
import { SteeringRuns } from './SteeringRuns'
import { useSteeringState } from './use-steering'

export function SteeringView({
  projectId,
  initialFeature,
  onOpenFeature
}: {
  projectId: string
  initialFeature?: number
  onOpenFeature: (f: number) => void
}) {
  const { state, dispatch, job, addFeature, openRun, generate, exportRun, parentStored } = useSteeringState(
    projectId,
    initialFeature
  )
  const { clamps, start, settings, pending, run } = state
  const compared = run?.sequences.find(s => s.id === state.compare)
  return (
    <div className="wb-view steering" data-testid="steering-view">
      <div className="wb-header">
        <h2>Steering</h2>
        <span className="muted">Clamp SAE features at the SAE's layer and let ESM2 write sequences under them</span>
      </div>
      <ErrorAlert error={state.error} className="panel error" testId="steering-error" />
      <div className="steer-grid">
        <section className="wb-panel">
          <div className="wb-panel-head">Features</div>
          <FeatureSearch
            projectId={projectId}
            onAdd={f => {
              if (!clamps.some(c => c.feature === f)) void addFeature(f)
            }}
          />
          <ClampList
            clamps={clamps}
            onChange={(index, clamp) => dispatch({ type: 'change-clamp', index, clamp })}
            onRemove={index => dispatch({ type: 'remove-clamp', index })}
            onOpenFeature={onOpenFeature}
          />
        </section>
        <section className="wb-panel">
          <div className="wb-panel-head">Generation</div>
          <GenerationForm state={state} dispatch={dispatch} />
          {settings.mode !== 'denovo' && (
            <StartSequencePicker projectId={projectId} start={start} dispatch={dispatch} />
          )}
          <div className="wb-toolbar">
            <button data-testid="steer-generate" disabled={!canGenerate(state)} onClick={() => void generate()}>
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
        <ClampPreview projectId={projectId} sequence={start.sequence} clamps={clamps} />
      )}
      <SteeringRuns
        runs={state.runs}
        run={run}
        onOpenRun={openRun}
        onExport={f => void exportRun(f).catch((e: Error) => dispatch({ type: 'set-error', error: e.message }))}
        onCompare={id => dispatch({ type: 'compare', id })}
      />
      {run && compared && (
        <section className="wb-panel" data-testid="steer-compare">
          <div className="wb-panel-head">
            {compared.id} and its parent
            <button className="btn-small" onClick={() => dispatch({ type: 'compare', id: null })}>
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
          <BesideParent
            projectId={projectId}
            parent={run.parent}
            parentStored={parentStored}
            parentTitle={run.parent ? `Parent ${run.parent.id}` : 'No parent (de novo)'}
            child={compared}
            childTitle={compared.id}
            featureId={run.clamps[0]?.feature}
            onOpenFeature={onOpenFeature}
          />
        </section>
      )}
    </div>
  )
}
