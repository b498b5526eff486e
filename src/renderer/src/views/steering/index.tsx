import '@renderer/components/views.css'
import './steering.css'
import type { ViewProps } from '@renderer/navigation'
import { SteeringView } from './SteeringView'

/** The "Steering" view (default export for the app shell). `#/steering?feature=N` adds a clamp on feature N. */
export default function SteeringRoute({ projectId, route, navigate }: ViewProps) {
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  const feature = route.view === 'steering' ? route.feature : undefined
  return (
    <SteeringView
      projectId={projectId}
      initialFeature={feature}
      onOpenFeature={f => navigate({ view: 'feature-detail', feature: f })}
    />
  )
}
