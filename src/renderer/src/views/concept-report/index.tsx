import '@renderer/components/views.css'
import type { ViewProps } from '@renderer/navigation'
import { ConceptReportView } from './ConceptReportView'

/** The "Concept report" view: paste or upload sequences, see the concepts the project's features predict. */
export default function ConceptReportPage({ projectId, navigate }: ViewProps) {
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  return (
    <ConceptReportView projectId={projectId} onOpenFeature={feature => navigate({ view: 'feature-detail', feature })} />
  )
}
