/**
 * The "Structure" page: a large 3D view of a project structure (or a file / RCSB / AlphaFold DB id), coloured
 * by a feature on a protein of the project when both are given, with the protein's track under it.
 */
import { useCallback, useRef, useState } from 'react'
import { api } from '@renderer/api'
import type { ProteinFeaturesResult } from '@shared/store-types'
import { useAsync, useElementWidth } from '@renderer/components/use-async'
import { ActivationTrack } from '@renderer/plots/ActivationTrack'
import { StructureView } from './StructureView'

const PAGE = 200

export interface StructurePageProps {
  projectId: string
  structureId?: string
  protein?: string
  feature?: number
  onChange: (next: { protein?: string; feature?: number }) => void
}

export function StructurePage({ projectId, structureId, protein, feature, onChange }: StructurePageProps) {
  const ref = useRef<HTMLDivElement>(null)
  const width = useElementWidth(ref, 900)
  const [proteinText, setProteinText] = useState(protein ?? '')
  const [featureText, setFeatureText] = useState(feature === undefined ? '' : String(feature))
  const [hovered, setHovered] = useState<number | null>(null)

  // Page through the protein's features (200 tracks a request) until the wanted feature's track is in.
  const loadFeatures = useCallback(async (): Promise<ProteinFeaturesResult | null> => {
    if (!protein) return null
    const first = await api.proteinFeatures({ projectId, protein, limit: PAGE, withTracks: PAGE })
    const items = [...first.items]
    for (
      let offset = PAGE;
      feature !== undefined && !items.some(h => h.feature === feature) && offset < first.total;
      offset += PAGE
    ) {
      const next = await api.proteinFeatures({ projectId, protein, offset, limit: PAGE, withTracks: PAGE })
      items.push(...next.items)
    }
    return { ...first, items }
  }, [projectId, protein, feature])
  const features = useAsync(loadFeatures)
  const data = features.data ?? null
  const error = features.error

  const hit = data && feature !== undefined ? data.items.find(h => h.feature === feature) : undefined
  const sequence = data?.sequence ?? ''
  const activations =
    data && feature !== undefined ? (hit?.activations ?? new Array<number>(sequence.length).fill(0)) : null

  return (
    <div className="wb-view" ref={ref} data-testid="structure-page">
      <div className="wb-header">
        <h2>Structure</h2>
        <span className="spacer" />
        <form
          className="wb-toolbar"
          onSubmit={e => {
            e.preventDefault()
            const f = featureText.trim() === '' ? undefined : Number(featureText)
            onChange({
              protein: proteinText.trim() || undefined,
              feature: f !== undefined && Number.isInteger(f) && f >= 0 ? f : undefined
            })
          }}
        >
          <label>
            Protein
            <input
              type="text"
              value={proteinText}
              onChange={e => setProteinText(e.target.value)}
              placeholder="accession"
              style={{ width: 120 }}
            />
          </label>
          <label>
            Feature
            <input
              type="number"
              min={0}
              value={featureText}
              onChange={e => setFeatureText(e.target.value)}
              style={{ width: 90 }}
            />
          </label>
          <button type="submit" className="btn">
            Colour
          </button>
        </form>
      </div>
      {error && <div className="error">{error}</div>}
      <StructureView
        key={`${structureId ?? ''}|${protein ?? ''}`}
        projectId={projectId}
        structureId={structureId}
        sequence={sequence}
        accession={data?.protein?.accession}
        activations={activations}
        max={hit?.globalMax ?? 1}
        featureLabel={feature !== undefined ? `#${feature}${hit?.label ? ` ${hit.label}` : ''}` : undefined}
        hovered={hovered}
        onHover={setHovered}
        viewerHeight={560}
        awaitColouring={!!protein && features.loading}
      />
      {data && activations && (
        <div className="wb-panel">
          <ActivationTrack
            sequence={sequence}
            activations={activations}
            max={hit?.globalMax ?? 1}
            annotations={data.annotations}
            width={Math.max(300, width - 70)}
            hovered={hovered}
            onHover={setHovered}
            title={`${data.protein?.accession ?? protein} · feature #${feature}`}
            exportName={`${protein}-feature-${feature}`}
          />
        </div>
      )}
    </div>
  )
}
