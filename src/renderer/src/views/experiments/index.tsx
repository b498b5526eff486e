import '@renderer/components/views.css'
import '../steering/steering.css'
import './experiments.css'
import { useCallback } from 'react'
import type { ViewProps } from '@renderer/navigation'
import { ExperimentsView } from './ExperimentsView'

/** The "Experiments" view: `#/experiments?features=1,2` starts a design with those features; `?experiment=ID` opens one. */
export default function ExperimentsRoute({ projectId, route, navigate }: ViewProps) {
  const openExperiment = useCallback((id: string) => navigate({ view: 'experiments', experiment: id }), [navigate])
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  const r = route.view === 'experiments' ? route : { features: undefined, experiment: undefined }
  return (
    <ExperimentsView
      projectId={projectId}
      initialFeatures={r.features ? r.features.split(',').map(Number) : undefined}
      experiment={r.experiment}
      onOpenExperiment={openExperiment}
      onOpenFeature={f => navigate({ view: 'feature-detail', feature: f })}
    />
  )
}
