import { useMemo } from 'react'
import '@renderer/components/views.css'
import type { ViewProps } from '@renderer/navigation'
import { ProteinView, type ProteinSource } from './ProteinView'

export { ProteinView, type ProteinViewProps, type ProteinSource } from './ProteinView'
export { ProteinPicker } from './ProteinPicker'
export { parsePastedRecords } from '@renderer/lib/sequence-input'

/** The "Protein" view (default export for the app shell). A pasted sequence goes into the URL, so links and reloads keep it. */
export default function ProteinRoute({ projectId, route, navigate }: ViewProps) {
  const r =
    route.view === 'protein'
      ? route
      : {
          view: 'protein' as const,
          protein: undefined,
          feature: undefined,
          sequence: undefined,
          name: undefined,
          structure: undefined
        }
  // One source object per protein/sequence: the views refetch when it changes.
  const source = useMemo(
    (): ProteinSource | null =>
      r.protein
        ? { kind: 'stored', protein: r.protein }
        : r.sequence
          ? { kind: 'unstored', name: r.name ?? 'pasted sequence', sequence: r.sequence }
          : null,
    [r.protein, r.sequence, r.name]
  )
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  return (
    <ProteinView
      projectId={projectId}
      source={source}
      featureId={r.feature}
      structureId={r.structure}
      onStructureChange={structure => navigate({ ...r, structure })}
      onPickSource={s => {
        if (s?.kind === 'unstored') navigate({ view: 'protein', sequence: s.sequence, name: s.name })
        else navigate(s ? { view: 'protein', protein: s.protein } : { view: 'protein' })
      }}
      onOpenFeature={feature => navigate({ view: 'feature-detail', feature })}
    />
  )
}
