import { useState } from 'react'
import '../../components/views.css'
import type { ViewProps } from '../../navigation'
import { ProteinView, type ProteinSource } from './ProteinView'

export { ProteinView, type ProteinViewProps, type ProteinSource } from './ProteinView'
export { ProteinPicker } from './ProteinPicker'
export { parsePastedSequence } from '../../lib/sequence-input'

/** The "Protein" view (default export for the app shell). A pasted sequence lives in state, not in the URL. */
export default function ProteinRoute({ projectId, route, navigate }: ViewProps) {
  const [live, setLive] = useState<ProteinSource | null>(null)
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  const r = route.view === 'protein' ? route : { view: 'protein' as const, protein: undefined, feature: undefined }
  const source: ProteinSource | null = r.protein ? { kind: 'stored', protein: r.protein } : live
  return (
    <ProteinView
      projectId={projectId}
      source={source}
      featureId={r.feature}
      onPickSource={(s) => {
        if (s?.kind === 'live') {
          setLive(s)
          navigate({ view: 'protein' })
        } else {
          setLive(null)
          navigate(s ? { view: 'protein', protein: s.protein } : { view: 'protein' })
        }
      }}
      onOpenFeature={(feature) => navigate({ view: 'feature-detail', feature })}
    />
  )
}
