import '@renderer/components/views.css'
import type { ViewProps } from '@renderer/navigation'
import { FeatureDetailView } from './FeatureDetailView'

export { FeatureDetailView, type FeatureDetailProps } from './FeatureDetailView'

/** The "Feature detail" view (default export for the app shell). */
export default function FeatureDetailRoute({ projectId, route, navigate }: ViewProps) {
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  const feature = route.view === 'feature-detail' ? (route.feature ?? 0) : 0
  return (
    <FeatureDetailView
      projectId={projectId}
      featureId={feature}
      onOpenFeature={f => navigate({ view: 'feature-detail', feature: f })}
      onOpenProtein={(protein, f) => navigate({ view: 'protein', protein, feature: f })}
      onBack={() => navigate({ view: 'features' })}
      onSteer={f => navigate({ view: 'steering', feature: f })}
    />
  )
}
