import '@renderer/components/views.css'
import type { ViewProps } from '@renderer/navigation'
import { StructurePage } from './StructurePage'

export { StructureView, type StructureViewProps } from './StructureView'
export { MolstarViewer, type MolstarViewerProps, type MolstarViewerHandle } from './MolstarViewer'
export { ActivationColorThemeProvider, ACTIVATION_THEME_NAME } from './activation-theme'
export { StructurePage } from './StructurePage'

/** The "Structure" view (default export for the app shell). */
export default function StructureRoute({ projectId, route, navigate }: ViewProps) {
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  const r = route.view === 'structure' ? route : { view: 'structure' as const }
  return (
    <StructurePage
      projectId={projectId}
      structureId={'structure' in r ? r.structure : undefined}
      protein={'protein' in r ? r.protein : undefined}
      feature={'feature' in r ? r.feature : undefined}
      onChange={next => navigate({ view: 'structure', structure: 'structure' in r ? r.structure : undefined, ...next })}
    />
  )
}
