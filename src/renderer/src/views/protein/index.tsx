import { useMemo, useState } from 'react'
import type { PastedRecord } from '@shared/sequence-text'
import '@renderer/components/views.css'
import type { ViewProps } from '@renderer/navigation'
import { ProteinView, type ProteinSource } from './ProteinView'

export { ProteinView, type ProteinViewProps, type ProteinSource } from './ProteinView'
export { ProteinPicker } from './ProteinPicker'

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
  // The records of the last multi-record paste (the protein view shows one and offers the others).
  const [pasted, setPasted] = useState<PastedRecord[]>([])
  if (!projectId) return <div className="wb-view muted">Open or create a project first (Models &amp; projects).</div>
  return (
    <ProteinView
      projectId={projectId}
      source={source}
      featureId={r.feature}
      structureId={r.structure}
      onStructureChange={structure => navigate({ ...r, structure })}
      pastedRecords={pasted}
      onPickSource={(s, records) => {
        // The records of a paste stay on offer while one of them is shown; another choice forgets them.
        if (records) setPasted(records)
        else if (s?.kind !== 'unstored') setPasted([])
        if (s?.kind === 'unstored') navigate({ view: 'protein', sequence: s.sequence, name: s.name })
        else navigate(s ? { view: 'protein', protein: s.protein } : { view: 'protein' })
      }}
      onOpenFeature={feature => navigate({ view: 'feature-detail', feature })}
    />
  )
}
