import '@renderer/components/views.css'
import type { ViewProps } from '@renderer/navigation'
import { FeatureBrowser } from './FeatureBrowser'

export { FeatureBrowser, type FeatureBrowserProps } from './FeatureBrowser'

/** The "Features" view (default export for the app shell). */
export default function FeaturesView({ projectId, navigate }: ViewProps) {
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  return (
    <FeatureBrowser projectId={projectId} onOpenFeature={feature => navigate({ view: 'feature-detail', feature })} />
  )
}
